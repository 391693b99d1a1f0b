"""Browser tests: Debian's headless Chromium driven by its own chromedriver (selenium with an
explicit Service, so nothing downloads a browser or a driver), against the real stack (Temporal,
worker, API over HTTP, the Slack stand-in as Slack and as the OIDC identity provider).

One stack (SQLite) and one browser for the directory: the console's logic runs on both
databases in tests/api and tests/e2e; these tests are about what a person sees."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from temporalio.testing import WorkflowEnvironment

from tests.e2e.conftest import Stack, _stack
from tools.slack_standin import StandIn
from tools.slack_standin import oidc as idp

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
SIGNING_SECRET = "browser-signing-secret"
BOT_TOKEN = "xoxb-browser-token"


@pytest.fixture(scope="session")
def browser_standin() -> Iterator[StandIn]:
    s = StandIn(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, rate_limit_scale=20.0)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
async def browser_stack(
    temporal_env: WorkflowEnvironment, browser_standin: StandIn
) -> AsyncIterator[Stack]:
    """Alice is an analyst; everyone else (Bob, Carol) a viewer. Clicks in #critical-alerts
    follow the roles; in #security-alerts anyone may act (the default)."""
    folder = Path(tempfile.mkdtemp(prefix="parley-browser-"))
    overrides: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "oidc_discovery_url": f"{browser_standin.url}/.well-known/openid-configuration",
        "oidc_client_id": idp.CLIENT_ID,
        "oidc_client_secret": idp.CLIENT_SECRET,
        "console_analysts": [ALICE],
        "console_default_role": "viewer",
        "slack_roles_destinations": ["critical-alerts"],
    }
    url = f"sqlite+aiosqlite:///{folder / 'parley.db'}"
    try:
        async for stack in _stack(temporal_env, browser_standin, url, **overrides):
            yield stack
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Browser:
    """A thin async face on selenium: every call runs in a thread, because the worker runs in
    the test's event loop and a blocking wait would stall it."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    async def run(self, fn: Callable[[WebDriver], Any]) -> Any:
        return await asyncio.to_thread(fn, self.driver)

    async def get(self, url: str) -> None:
        await self.run(lambda d: d.get(url))

    async def until(self, check: Callable[[WebDriver], Any], what: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = await self.run(check)
            except WebDriverException as exc:  # the page is between two loads: look again
                last = exc  # (an exception is truthy: it must never count as found)
            else:
                if last:
                    return last
            await asyncio.sleep(0.2)
        await self.screenshot(f"failed-{what.replace(' ', '-')[:40]}")
        raise AssertionError(f"timed out waiting for {what}; last: {last!r}")

    async def text(self, css: str = "body") -> str:
        return await self.run(lambda d: d.find_element(By.CSS_SELECTOR, css).text)

    async def click(self, css: str) -> None:
        await self.run(lambda d: d.find_element(By.CSS_SELECTOR, css).click())

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.run(lambda d: d.save_screenshot(str(path)))
        return path

    async def sign_in(self, stack: Stack, user: str) -> None:
        """Sign in with Slack through the stand-in's authorize page, as `user`."""
        await self.get(f"{stack.api_url}/healthz")
        await self.run(lambda d: d.delete_all_cookies())
        await self.get(f"{stack.api_url}/console")
        await self.click("#sign-in")
        await self.until(lambda d: d.find_elements(By.ID, f"as-{user}"), "the stand-in's page")
        await self.click(f"#as-{user}")
        await self.until(
            lambda d: (
                d.current_url.startswith(f"{stack.api_url}/console")
                and d.find_elements(By.ID, "role")
            ),
            "the console after sign-in",
        )


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1400")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: WebDriver) -> Browser:
    return Browser(chromium)
