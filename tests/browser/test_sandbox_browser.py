"""The stand-in's sandbox page, clicked in a real browser: the clicks go through the driver's
signed payloads to Parley, so this is the real path a Slack click takes."""

from __future__ import annotations

from urllib.parse import urlencode

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import ALICE, BOB, Browser
from tests.e2e.conftest import Stack, new_alert

STATUS_SELECT = 'select[data-action="alert.update_status"]'


async def test_resolve_in_a_modal_and_an_ephemeral_refusal(
    browser_stack: Stack, browser: Browser
) -> None:
    stack = browser_stack
    alert = new_alert(title="Clicked in the sandbox")
    assert (await stack.post_alert(alert)).status_code == 201
    state = await stack.wait_posted(alert["id"], 2)
    crit = next(c for c in state.copies if c.channel == "C0CRIT")

    def message(d: object) -> object:
        return d.find_element(By.CSS_SELECTOR, f'#pane .msg[data-ts="{crit.ts}"]')  # type: ignore[attr-defined]

    # Bob is a viewer, and #critical-alerts follows the roles: his click is refused, to him alone.
    await browser.get(f"{stack.standin.url}/?{urlencode({'c': 'C0CRIT', 'as': BOB})}")
    await browser.until(message, "the alert message in the sandbox")
    text = await browser.run(lambda d: message(d).text)
    assert "Clicked in the sandbox" in text and ":large_" not in text and "<!date" not in text
    await browser.run(
        lambda d: Select(message(d).find_element(By.CSS_SELECTOR, STATUS_SELECT)).select_by_value(
            "Triaged"
        )
    )
    note = await browser.until(
        lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "#pane .ephemeral")],
        "Bob's ephemeral refusal",
    )
    assert "viewer" in note[-1] and "Only visible to you" in note[-1]
    await browser.screenshot("sandbox-ephemeral")

    # Alice does not see Bob's note; she resolves in the modal.
    await browser.run(lambda d: Select(d.find_element(By.ID, "acting-as")).select_by_value(ALICE))
    await browser.until(
        lambda d: f"as={ALICE}" in d.current_url and d.find_elements(By.ID, "pane"),
        "the page as Alice",
    )
    assert await browser.run(lambda d: d.find_elements(By.CSS_SELECTOR, "#pane .ephemeral")) == []
    await browser.run(lambda d: d.execute_script("window.stillHere = true"))
    await browser.run(
        lambda d: Select(message(d).find_element(By.CSS_SELECTOR, STATUS_SELECT)).select_by_value(
            "Resolved"
        )
    )
    await browser.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".modal"), "the modal")
    await browser.click("#modal-submit")  # empty: the client itself refuses to send it
    assert "required" in await browser.text("#status-line")
    await browser.run(lambda d: d.find_element(By.CSS_SELECTOR, ".modal textarea").send_keys("  "))
    await browser.click("#modal-submit")  # blanks: Parley answers response_action errors
    error = await browser.until(
        lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".modal .field-error")],
        "the error on the comment field",
    )
    assert "resolved" in error[0]
    await browser.run(
        lambda d: d.find_element(By.CSS_SELECTOR, ".modal textarea").send_keys("Test login")
    )
    await browser.click("#modal-submit")
    await browser.until(
        lambda d: (
            not d.find_elements(By.CSS_SELECTOR, ".modal")
            and "Resolved" in message(d).text
            and "Alice Anders"
            in d.find_element(By.CSS_SELECTOR, f'.thread[data-parent="{crit.ts}"]').text
        ),
        "the message re-rendered and the thread reply",
    )
    assert await browser.run(lambda d: d.execute_script("return window.stillHere")) is True
    await browser.run(lambda d: d.execute_script("document.querySelector('main').scrollTop = 1e6"))
    await browser.screenshot("sandbox-resolved")
    history = await stack.history(alert["id"])
    refused = [h for h in history if h["action"] == "click_refused"]
    assert len(refused) == 1 and refused[0]["actor"]["id"] == BOB
    assert any(h["action"] == "status_changed" and h["actor"]["id"] == ALICE for h in history)
