"""What a person sees: Sign in with Slack, the alert list and page, a change made in the console
reaching both Slack copies, a Slack click showing up live, and a viewer who can change nothing."""

from __future__ import annotations

import uuid
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from parley.slack.ui import ids
from tests.browser.conftest import ALICE, BOB, CAROL, Browser
from tests.e2e.conftest import Stack, new_alert


def _slack_text(message: dict[str, Any] | None) -> str:
    return str(message) if message else ""


async def _posted(stack: Stack, **overrides: Any) -> tuple[dict[str, Any], Any]:
    alert = new_alert(**overrides)
    r = await stack.post_alert(alert)
    assert r.status_code == 201, r.text
    return alert, await stack.wait_posted(alert["id"], 2)  # High: two destinations


async def test_analyst_filters_opens_and_resolves_an_alert(
    browser_stack: Stack, browser: Browser
) -> None:
    stack = browser_stack
    word = uuid.uuid4().hex[:8]
    alert, state = await _posted(stack, title=f"Console login from Lisbon {word}")
    await _posted(stack, title="Someone else's alert")
    await browser.sign_in(stack, ALICE)
    assert "Alice Anders" in await browser.text("nav")

    # The list: a free-text filter, counts per status.
    await browser.run(lambda d: d.find_element(By.NAME, "q").send_keys(word))
    await browser.click("#filters button")
    rows = await browser.until(
        lambda d: (
            (r := d.find_elements(By.CSS_SELECTOR, "#alerts tbody tr[data-alert]"))
            and len(r) == 1
            and r
        ),
        "one row after filtering",
    )
    assert await browser.run(lambda d: rows[0].get_attribute("data-alert")) == alert["id"]
    assert "Open 1" in await browser.text("#counts")
    await browser.screenshot("console-list")

    # The alert page: the first event collapsed, each copy by channel name.
    await browser.click(f'#alerts a[href="/alerts/{alert["id"]}"]')
    await browser.until(lambda d: d.find_elements(By.ID, "status-form"), "the alert page")
    first_open = await browser.run(
        lambda d: d.find_element(By.ID, "first-event").get_attribute("open")
    )
    assert first_open is None
    copies = await browser.text("#copies")
    assert "#security-alerts" in copies and "#critical-alerts" in copies

    # Resolve with a comment, as Alice: no name typed anywhere.
    await browser.run(
        lambda d: Select(d.find_element(By.ID, "pc-status")).select_by_visible_text("Resolved")
    )
    await browser.run(lambda d: d.find_element(By.ID, "pc-comment").send_keys("Her VPN, in Lisbon"))
    await browser.click("#pc-status-go")
    await browser.until(
        lambda d: (
            "Alice Anders changed status Open → Resolved" in d.find_element(By.ID, "live").text
        ),
        "the change in the timeline",
    )
    assert "Sent" in await browser.text("#flash")

    # Slack: both copies re-rendered, and a thread reply naming Alice under each.
    def in_slack() -> bool:
        return all(
            "Resolved" in _slack_text(stack.standin.get_message(c.channel, c.ts))
            and any("Alice Anders" in r["text"] for r in stack.standin.replies(c.channel, c.ts))
            for c in state.copies
        )

    await stack.wait_for(in_slack, what="both copies resolved, a reply naming Alice")
    # ... and on the stand-in's page, as a person would look.
    await browser.get(stack.standin.url + "/")
    page = await browser.text()
    assert page.count("Alice Anders") >= 2 and "Her VPN, in Lisbon" in page
    await browser.screenshot("sandbox-thread")


async def test_a_slack_click_shows_on_an_open_page_without_a_reload(
    browser_stack: Stack, browser: Browser
) -> None:
    stack = browser_stack
    alert, state = await _posted(stack, title="Watched while Bob clicks in Slack")
    await browser.sign_in(stack, ALICE)
    await browser.get(f"{stack.api_url}/alerts/{alert['id']}")
    await browser.until(lambda d: d.find_elements(By.ID, "timeline"), "the alert page")
    await browser.run(lambda d: d.execute_script("window.stillHere = true"))

    copy = next(c for c in state.copies if c.channel == "C0ALERTS")  # anyone may act there
    click = await stack.standin.driver.click(
        BOB, copy.channel, copy.ts, ids.UPDATE_STATUS, selected_option="Triaged"
    )
    assert click.status == 200
    await stack.standin.driver.click(
        BOB, copy.channel, copy.ts, ids.SET_ASSIGNEE, selected_user=CAROL
    )
    timeline = await browser.until(
        lambda d: (
            (t := d.find_element(By.ID, "timeline").text)
            and "changed status Open → Triaged" in t
            and "assigned it to" in t
            and t
        ),
        "the Slack clicks in the open page's timeline",
    )
    assert await browser.run(lambda d: d.execute_script("return window.stillHere")) is True
    assert "Bob Brown changed status Open → Triaged" in timeline
    assert "assigned it to Carol Chen" in timeline
    assert "U0BOB" not in timeline and "U0CAROL" not in timeline  # names, the same in every row
    assert "Triaged" in await browser.text("#status")
    await browser.screenshot("alert-timeline")


async def test_a_viewer_finds_no_controls_and_a_forged_post_is_refused(
    browser_stack: Stack, browser: Browser
) -> None:
    stack = browser_stack
    alert, _ = await _posted(stack, title="Only to look at")
    await browser.sign_in(stack, CAROL)
    assert "viewer" in await browser.text("#role")
    await browser.get(f"{stack.api_url}/alerts/{alert['id']}")
    await browser.until(lambda d: d.find_elements(By.ID, "timeline"), "the alert page")
    assert (
        await browser.run(lambda d: d.find_elements(By.CSS_SELECTOR, "#change, form[id$='-form']"))
        == []
    )
    # A forged post from the viewer's own session, with a valid CSRF token (from the sign-out form).
    status = await browser.run(
        lambda d: d.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const csrf = document.querySelector("input[name=csrf]").value;
            fetch(arguments[0], {method: "POST", credentials: "same-origin",
              body: new URLSearchParams({status: "Invalid", csrf})}).then(r => done(r.status));
            """,
            f"/console/alerts/{alert['id']}/status",
        )
    )
    assert status == 403
    detail = await stack.http.get(f"/alerts/{alert['id']}", headers=stack.auth())
    assert detail.json()["status"] == "Open"
    assert [h["action"] for h in detail.json()["history"]] == ["created"]

    # /docs renders offline: Swagger UI comes from the installed package.
    await browser.get(f"{stack.api_url}/docs")
    title = await browser.until(
        lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".swagger-ui .title")],
        "Swagger UI",
    )
    assert "Parley" in title[0]
