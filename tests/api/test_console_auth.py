"""Sign in with Slack through the stand-in (a real OIDC round trip over HTTP), sessions, roles
and CSRF on the console's change forms. The full path of a change is in tests/browser."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api import console, console_admin, console_auth, console_changes
from api.outbox import Outbox
from parley.domain import AlertIn, Status
from parley.settings import Settings
from parley.slack.client import make_slack_client
from parley.store import api_tokens, repo
from parley.store import outbox as outbox_store
from parley.store.db import Database
from tools.slack_standin import StandIn
from tools.slack_standin import oidc as idp

HTML = {"Accept": "text/html"}
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"  # analyst, viewer (the default), admin
# The redirect URI must be one the stand-in has registered for the client (loopback).
BASE = "http://127.0.0.1:8000"
HIDDEN = r'<input type="hidden" name="([^"]+)" value="([^"]*)">'


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


def _settings(standin: StandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "parley_api_token": "t",
        "parley_secret_key": "k" * 40,
        "oidc_discovery_url": f"{standin.url}/.well-known/openid-configuration",
        "oidc_client_id": idp.CLIENT_ID,
        "oidc_client_secret": idp.CLIENT_SECRET,
        "slack_team_id": standin.workspace.team.id,
        "console_analysts": [ALICE],
        "console_admins": [CAROL],
        "console_base_url": BASE,
    }
    return Settings(**(values | overrides))


def _app(db: Database, settings: Settings) -> FastAPI:
    app = FastAPI()
    app.include_router(console.router)
    app.state.db = db
    app.state.settings = settings
    console_auth.install(app, settings)
    app.include_router(console_changes.router)
    app.include_router(console_admin.router)
    return app


@pytest.fixture
async def client(db: Database, standin: StandIn) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(db, _settings(standin))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        yield c


async def sign_in(client: httpx.AsyncClient, user: str, next_path: str = "/console") -> str:
    """Walk the OIDC flow as a browser would: Parley -> stand-in's page -> Parley's callback.
    Returns the callback URL (to replay it)."""
    r = await client.get("/auth/login", params={"next": next_path})
    assert r.status_code == 302, r.text
    async with httpx.AsyncClient() as idp_browser:
        page = await idp_browser.get(r.headers["location"])
        assert page.status_code == 200 and f'id="as-{user}"' in page.text
        fields = dict(re.findall(HIDDEN, page.text))
        assert fields["nonce"] and fields["state"]  # Authlib sent both
        fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
        action = page.url.copy_with(query=None)
        back = await idp_browser.post(action, data=fields | {"user": user})
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert callback.startswith(f"{BASE}/auth/callback?")
    done = await client.get(callback.removeprefix(BASE))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == next_path
    return callback


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def _alert(db: Database, make_alert: Any) -> AlertIn:
    alert = make_alert()
    await repo.claim_alert(db, alert, "wf")
    return alert


async def test_sign_in_with_slack_sets_a_strict_session(
    client: httpx.AsyncClient, db: Database, make_alert: Any
) -> None:
    alert = await _alert(db, make_alert)
    r = await client.get("/console", headers=HTML)
    assert r.status_code == 401 and "Sign in with Slack" in r.text

    await sign_in(client, ALICE, f"/alerts/{alert.id}")
    cookie = next(c for c in client.cookies.jar if c.name == "parley_session")
    assert cookie.has_nonstandard_attr("httponly") and not cookie.secure
    assert cookie.get_nonstandard_attr("samesite", "").lower() == "lax"
    assert cookie.expires is not None  # the session expires

    page = await client.get(f"/alerts/{alert.id}", headers=HTML)
    assert page.status_code == 200
    assert "Alice Anders" in page.text and 'id="role">analyst<' in page.text
    assert 'id="status-form"' in page.text and "Your name" not in page.text


async def test_the_callback_checks_state_and_refuses_replays(
    client: httpx.AsyncClient, standin: StandIn
) -> None:
    callback = await sign_in(client, ALICE)
    again = await client.get(callback.removeprefix(BASE))  # the same state and code again
    assert again.status_code == 401 and "Sign-in failed" in again.text
    forged = await client.get("/auth/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 401 and "mismatching_state" in forged.text


async def test_the_stand_in_checks_clients_redirects_and_codes(standin: StandIn) -> None:
    async with httpx.AsyncClient(base_url=standin.url) as http:
        query = {
            "response_type": "code",
            "client_id": idp.CLIENT_ID,
            "scope": "openid,email",
            "redirect_uri": "https://evil.example/cb",
            "state": "s",
            "nonce": "n",
        }
        r = await http.get("/openid/connect/authorize", params=query)
        assert r.status_code == 400 and "bad_redirect_uri" in r.text
        r = await http.get("/openid/connect/authorize", params=query | {"client_id": "other"})
        assert r.status_code == 400 and "invalid_client_id" in r.text
        ok = query | {"redirect_uri": f"{BASE}/auth/callback"}
        r = await http.post("/openid/connect/authorize", data=ok | {"user": ALICE})
        code = re.search(r"code=([^&]+)", r.headers["location"])
        assert r.status_code == 302 and code
        token = {"grant_type": "authorization_code", "code": code.group(1)}
        token |= {"redirect_uri": ok["redirect_uri"], "client_id": idp.CLIENT_ID}
        bad = await http.post("/api/openid.connect.token", data=token | {"client_secret": "x"})
        assert bad.json() == {"ok": False, "error": "bad_client_secret"}
        wrong = token | {"client_secret": idp.CLIENT_SECRET, "redirect_uri": f"{BASE}/x"}
        assert (await http.post("/api/openid.connect.token", data=wrong)).json()["error"] == (
            "bad_redirect_uri"
        )
        # The failed exchange used the code up, as Slack does: a code works once.
        good = token | {"client_secret": idp.CLIENT_SECRET}
        r = await http.post("/api/openid.connect.token", data=good)
        assert r.json() == {"ok": False, "error": "invalid_code"}
        info = await http.get("/api/openid.connect.userInfo", headers={"Authorization": "Bearer x"})
        assert info.json() == {"ok": False, "error": "invalid_auth"}


async def test_other_workspaces_and_roleless_people_are_refused(
    db: Database, standin: StandIn
) -> None:
    for overrides, message in (
        ({"slack_team_id": "T0OTHER"}, "not this Parley"),
        ({"console_default_role": "none"}, "no role"),
    ):
        app = _app(db, _settings(standin, **overrides))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
            r = await c.get("/auth/login")
            async with httpx.AsyncClient() as browser:
                page = await browser.get(r.headers["location"])
                fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)">', page.text))
                fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
                back = await browser.post(
                    page.url.copy_with(query=None), data=fields | {"user": BOB}
                )
            done = await c.get(back.headers["location"].removeprefix(BASE))
            assert done.status_code == 401 and message in done.text, overrides
            assert (await c.get("/console", headers=HTML)).status_code == 401


async def test_a_viewer_sees_no_controls_and_a_forged_post_changes_nothing(
    client: httpx.AsyncClient, db: Database, make_alert: Any
) -> None:
    alert = await _alert(db, make_alert)
    await sign_in(client, BOB)
    page = await client.get(f"/alerts/{alert.id}", headers=HTML)
    assert page.status_code == 200 and 'id="role">viewer<' in page.text
    assert 'id="status-form"' not in page.text and "Set status" not in page.text
    form = {"status": "Resolved", "comment": "forged", "csrf": _csrf(page.text)}
    r = await client.post(f"/console/alerts/{alert.id}/status", data=form)
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    r = await client.post(f"/console/alerts/{alert.id}/assignee", data={"csrf": form["csrf"]})
    assert r.status_code == 403
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None and detail.status is Status.OPEN and detail.history == []


async def test_a_missing_or_wrong_csrf_token_gets_403(
    client: httpx.AsyncClient, db: Database, make_alert: Any
) -> None:
    alert = await _alert(db, make_alert)
    await sign_in(client, ALICE)
    for csrf in ({}, {"csrf": "wrong"}):
        r = await client.post(
            f"/console/alerts/{alert.id}/status", data={"status": "Triaged", **csrf}
        )
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = await client.post("/auth/logout", data={})
    assert r.status_code == 403  # signing out is a change too
    detail = await repo.get_alert_detail(db, alert.id)
    assert detail is not None and detail.status is Status.OPEN


async def test_signed_out_posts_get_401(
    client: httpx.AsyncClient, db: Database, make_alert: Any
) -> None:
    alert = await _alert(db, make_alert)
    r = await client.post(f"/console/alerts/{alert.id}/status", data={"status": "Triaged"})
    assert r.status_code == 401


async def test_sessions_expire_and_sign_out_ends_them(
    db: Database, standin: StandIn, make_alert: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(db, _settings(standin, console_session_seconds=60))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        await sign_in(c, ALICE)
        assert (await c.get("/console", headers=HTML)).status_code == 200
        # The wall clock moves past the session's life (the cookie's signature and its `exp`
        # both read time.time); a real sleep would race a slow sign-in on a loaded machine.
        now = time.time()
        monkeypatch.setattr(time, "time", lambda: now + 61)
        assert (await c.get("/console", headers=HTML)).status_code == 401
        monkeypatch.undo()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(_app(db, _settings(standin))), base_url=BASE
    ) as c:
        await sign_in(c, CAROL)
        page = await c.get("/console", headers=HTML)
        assert 'id="role">admin<' in page.text
        r = await c.post("/auth/logout", data={"csrf": _csrf(page.text)})
        assert r.status_code == 303
        assert (await c.get("/console", headers=HTML)).status_code == 401


def test_secure_cookie_over_https(db: Database, standin: StandIn) -> None:
    app = _app(db, _settings(standin, console_base_url="https://parley.example"))
    session = next(m for m in app.user_middleware if m.cls.__name__ == "SessionMiddleware")
    assert session.kwargs["https_only"] is True and session.kwargs["same_site"] == "lax"


async def test_roles_from_a_slack_user_group(db: Database, standin: StandIn) -> None:
    """usergroups.users.list on the stand-in: @secops (Alice, Bob) are analysts, no one else
    has a role; a group Slack does not know gives no one a role."""
    for group, user, role in (("S0SECOPS", BOB, "analyst"), ("S0SECOPS", CAROL, None)):
        settings = _settings(
            standin,
            console_analysts=[],
            console_admins=[],
            console_analyst_group=group,
            console_default_role="none",
        )
        app = _app(db, settings)
        app.state.slack = make_slack_client(standin.bot_token, standin.base_url, timeout=2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
            if role:
                await sign_in(c, user)
                page = await c.get("/console", headers=HTML)
                assert f'id="role">{role}<' in page.text
            else:
                r = await c.get("/auth/login")
                async with httpx.AsyncClient() as browser:
                    page = await browser.get(r.headers["location"])
                    fields = dict(re.findall(HIDDEN, page.text))
                    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
                    back = await browser.post(
                        page.url.copy_with(query=None), data=fields | {"user": user}
                    )
                done = await c.get(back.headers["location"].removeprefix(BASE))
                assert done.status_code == 401 and "no role" in done.text
    calls = standin.calls("usergroups.users.list")
    assert calls and calls[0]["result"] == {"ok": True, "users": [ALICE, BOB]}
    async with httpx.AsyncClient(base_url=standin.base_url) as http:
        auth = {"Authorization": f"Bearer {standin.bot_token}"}
        r = await http.post("usergroups.users.list", data={"usergroup": "S0NOPE"}, headers=auth)
        assert r.json() == {"ok": False, "error": "no_such_subteam"}


async def test_admins_make_and_revoke_api_tokens_in_the_console(
    db: Database, standin: StandIn
) -> None:
    app = _app(db, _settings(standin))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        await sign_in(c, ALICE)  # an analyst
        assert (await c.get("/console/admin", headers=HTML)).status_code == 403
        page = await c.get("/console", headers=HTML)
        assert "/console/admin" not in page.text
        form = {"name": "siem", "scope": "intake", "csrf": _csrf(page.text)}
        assert (await c.post("/console/admin/tokens", data=form)).status_code == 403
    assert await api_tokens.listed(db) == []

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        await sign_in(c, CAROL)  # an admin
        page = await c.get("/console/admin", headers=HTML)
        assert page.status_code == 200 and "U0CAROL" in page.text
        form = {"name": "siem", "scope": "intake", "csrf": _csrf(page.text)}
        assert (await c.post("/console/admin/tokens", data=form | {"csrf": ""})).status_code == 403
        made = await c.post("/console/admin/tokens", data=form)
        token = re.search(r"<code>(prl_[^<]+)</code>", made.text)
        assert made.status_code == 200 and token
        found = await api_tokens.lookup(db, token.group(1))
        assert found is not None and found.scope == "intake" and found.created_by == CAROL
        again = await c.get("/console/admin", headers=HTML)
        assert token.group(1) not in again.text  # shown once
        r = await c.post(f"/console/admin/tokens/{found.id}/revoke", data={"csrf": form["csrf"]})
        assert r.status_code == 303
    assert await api_tokens.lookup(db, token.group(1)) is None


async def test_an_analyst_asks_a_boomerang_as_themselves(
    db: Database, standin: StandIn, make_alert: Any
) -> None:
    """Temporal is away here: the ask waits in the outbox, under the analyst's Slack identity."""
    alert = await _alert(db, make_alert)
    app = _app(db, _settings(standin, temporal_address="127.0.0.1:9"))
    app.state.temporal = None
    app.state.outbox = Outbox(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        await sign_in(c, ALICE)
        page = await c.get(f"/alerts/{alert.id}", headers=HTML)
        form = {"recipient_id": BOB, "question": "Was this you?", "csrf": _csrf(page.text)}
        r = await c.post(f"/console/alerts/{alert.id}/boomerang", data=form)
        assert r.status_code == 303
        page = await c.get(r.headers["location"], headers=HTML)
        assert "Queued" in page.text
        bad = await c.post(
            f"/console/alerts/{alert.id}/boomerang", data=form | {"recipient_id": "bob"}
        )
        page = await c.get(bad.headers["location"], headers=HTML)
        assert "is not a Slack user id" in page.text
    queued = await outbox_store.queued_for_alert(db, alert.id)
    asks = [q for q in queued if q.signal and q.signal.endswith("ask_boomerang")]
    assert len(asks) == 1
    assert asks[0].payload["actor"] == {"source": "console", "id": ALICE, "name": "Alice Anders"}
    assert asks[0].payload["recipient_id"] == BOB


async def test_a_token_form_session_needs_csrf_and_ends_when_the_token_is_rotated(
    db: Database, standin: StandIn
) -> None:
    """Without OIDC the sign-in form opens an admin session with PARLEY_API_TOKEN. The review
    found that session skipping CSRF (it was taken for a bearer header) and outliving a rotated
    token."""
    no_oidc = {"oidc_discovery_url": "", "oidc_client_id": ""}
    app = _app(db, _settings(standin, **no_oidc))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        page = await c.get("/console", headers=HTML)
        r = await c.post("/auth/token", data={"token": "t", "csrf": _csrf(page.text)})
        assert r.status_code == 303
        assert (await c.get("/console", headers=HTML)).status_code == 200
        for url, form in (
            ("/console/alerts/a1/status", {"status": "Triaged"}),
            ("/console/admin/tokens", {"name": "minted", "scope": "full"}),
        ):
            r = await c.post(url, data=form)  # the cookie alone, no CSRF token
            assert r.status_code == 403 and "CSRF" in r.text, url
        assert await api_tokens.listed(db) == []
        cookies = c.cookies
    rotated = _app(db, _settings(standin, parley_api_token="t-rotated", **no_oidc))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(rotated), base_url=BASE, cookies=cookies
    ) as c:
        assert (await c.get("/console", headers=HTML)).status_code == 401


def test_open_sign_in_is_an_unsafe_setting(standin: StandIn) -> None:
    """The review found any Slack workspace's users let in as viewers when SLACK_TEAM_ID was
    empty: outside a local stack that refuses to start, unless strangers get no role."""
    from parley.settings import production_problems

    def about_sign_in(**overrides: Any) -> list[str]:
        settings = _settings(standin, **overrides)
        return [p for p in production_problems(settings) if "OIDC_DISCOVERY_URL" in p]

    assert about_sign_in(slack_team_id="")  # any workspace, default role viewer
    assert not about_sign_in(slack_team_id="", console_default_role="none")
    assert not about_sign_in()  # this workspace only
