"""Who is using the console: Sign in with Slack (OpenID Connect), sessions, roles, CSRF.

- Sign-in: Authlib's Starlette OIDC client, configured from the provider's discovery document
  (Slack's, or any other: Okta, Google). Authlib checks the id_token's RS256 signature against the
  JWKS, `iss`, `aud`, expiry, `nonce` and `at_hash`; `state` lives in the session. Slack logins
  from another workspace (`https://slack.com/team_id` ≠ SLACK_TEAM_ID) are refused.
- Sessions: Starlette's SessionMiddleware, an itsdangerous-signed cookie: HttpOnly, SameSite=Lax,
  Secure when CONSOLE_BASE_URL is https, expiring after CONSOLE_SESSION_SECONDS (the signature's
  timestamp is checked too, so an old cookie replayed after that is void).
- Roles (viewer < analyst < admin) are read on each request from config: user ids, or Slack user
  groups through `usergroups.users.list` (cached). A change of role applies at once.
- CSRF: one random token per session, in every form that changes something; checked with
  compare_digest. Bearer-token callers (no cookie) need none.
- Without OIDC the console takes PARLEY_API_TOKEN on a sign-in form (an admin session); with no
  token either, auth is off (a local stack), as for the REST API.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from api.deps import SESSION_COOKIE
from parley.settings import Settings

log = logging.getLogger("parley.console.auth")

router = APIRouter(include_in_schema=False)


class Role(IntEnum):
    NONE = 0
    VIEWER = 1
    ANALYST = 2
    ADMIN = 3

    @classmethod
    def named(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError as exc:
            raise ValueError(f"unknown role {name!r}: viewer, analyst, admin or none") from exc


@dataclass(frozen=True)
class ConsoleUser:
    id: str  # the Slack user id (the id_token's `sub`); empty for a token or an open console
    name: str
    role: Role
    # "oidc"; "bearer" (PARLEY_API_TOKEN in the Authorization header); "token" (a session the
    # sign-in form opened with PARLEY_API_TOKEN); "open" (no auth configured)
    via: str

    @property
    def role_name(self) -> str:
        return self.role.name.lower()

    def can(self, role: Role) -> bool:
        return self.role >= role


def oidc_enabled(settings: Settings) -> bool:
    return bool(settings.oidc_discovery_url and settings.oidc_client_id)


def install(app: FastAPI, settings: Settings) -> None:
    """Sessions and the sign-in routes; the OIDC client when a provider is configured."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.parley_secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.console_session_seconds,
        same_site="lax",
        https_only=urlsplit(settings.console_base_url).scheme == "https",
    )
    app.state.oauth = None
    app.state.role_groups = {}
    if oidc_enabled(settings):
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register(
            "console",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_discovery_url,
            client_kwargs={"scope": settings.oidc_scope},
        )
        app.state.oauth = oauth
    app.include_router(router)


# ---- who is asking -----------------------------------------------------------------------------


async def _group_members(request: Request, group: str) -> set[str]:
    """Members of a Slack user group, cached; an error (e.g. plan_upgrade_required) is logged
    and counts as no members, so the config's user ids still apply."""
    settings: Settings = request.app.state.settings
    cache: dict[str, tuple[float, set[str]]] = request.app.state.role_groups
    hit = cache.get(group)
    if hit and time.monotonic() - hit[0] < settings.console_role_cache_seconds:
        return hit[1]
    members: set[str] = set()
    try:
        resp = await request.app.state.slack.usergroups_users_list(usergroup=group)
        members = set(resp.get("users") or [])
    except Exception as exc:
        log.warning("usergroups.users.list %s failed: %s", group, exc)
    cache[group] = (time.monotonic(), members)
    return members


async def role_of(request: Request, user_id: str) -> Role:
    settings: Settings = request.app.state.settings
    if user_id in settings.console_admins:
        return Role.ADMIN
    if settings.console_admin_group and user_id in await _group_members(
        request, settings.console_admin_group
    ):
        return Role.ADMIN
    if user_id in settings.console_analysts:
        return Role.ANALYST
    if settings.console_analyst_group and user_id in await _group_members(
        request, settings.console_analyst_group
    ):
        return Role.ANALYST
    return Role.named(settings.console_default_role)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def _digest(token: str) -> str:
    """What a token-opened session keeps of the token: enough to notice it was rotated."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _bearer(request: Request) -> str:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


async def console_user(request: Request) -> ConsoleUser | None:
    """The person (or token) behind this request, or None: not signed in."""
    if hasattr(request.state, "console_user"):
        return request.state.console_user
    settings: Settings = request.app.state.settings
    user: ConsoleUser | None = None
    given = _bearer(request)
    if given and settings.parley_api_token and _same(given, settings.parley_api_token):
        user = ConsoleUser("", "API token", Role.ADMIN, "bearer")
    elif "session" in request.scope and (who := request.session.get("user")):
        if float(who.get("exp", 0)) > time.time():
            if who.get("via") == "token":
                # Only while PARLEY_API_TOKEN is the one it was opened with: rotating a leaked
                # token ends these sessions too.
                current = settings.parley_api_token
                same = bool(current) and _same(str(who.get("tok", "")), _digest(current))
                role = Role.ADMIN if same else Role.NONE
            else:
                role = await role_of(request, str(who["id"]))
            if role > Role.NONE:
                user = ConsoleUser(str(who["id"]), str(who["name"]), role, str(who["via"]))
    elif not settings.parley_api_token and not oidc_enabled(settings):
        user = ConsoleUser("", "console", Role.ADMIN, "open")  # auth off: a local stack
    request.state.console_user = user
    return user


def csrf_token(request: Request) -> str:
    if "session" not in request.scope:
        return ""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf(request: Request, given: str | None) -> None:
    expected = request.session.get("csrf") if "session" in request.scope else None
    if not given or not expected or not _same(given, str(expected)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "missing or wrong CSRF token: reload the page and try again",
        )


async def require_role(request: Request, role: Role, csrf: str | None) -> ConsoleUser:
    """A form post: signed in, allowed, and carrying the session's CSRF token."""
    user = await console_user(request)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    if user.via != "bearer":  # a header a browser never sends on its own; sessions need CSRF
        check_csrf(request, csrf)
    if not user.can(role):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"you are a {user.role_name}; this needs the {role.name.lower()} role",
        )
    return user


def sign_in_page(request: Request, error: str | None = None) -> HTMLResponse:
    from api.pages import render

    settings: Settings = request.app.state.settings
    return render(
        request,
        "signin.html",
        {
            "title": "Sign in",
            "oidc": oidc_enabled(settings),
            "next": _next(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            ),
            "error": error,
        },
        status_code=status.HTTP_401_UNAUTHORIZED,
    )


def _next(target: str | None) -> str:
    """Only a path on this site: an open redirect would hand a phisher our sign-in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\", "/auth/")):
        return target
    return "/console"


def _start_session(request: Request, user: dict[str, Any]) -> None:
    settings: Settings = request.app.state.settings
    request.session.clear()  # a new session id and CSRF token on sign-in (no fixation)
    request.session["user"] = user | {"exp": time.time() + settings.console_session_seconds}
    request.session["csrf"] = secrets.token_urlsafe(32)


@router.get("/auth/login")
async def login(request: Request, next: str | None = None) -> Response:
    oauth = request.app.state.oauth
    if oauth is None:
        return RedirectResponse("/console", status.HTTP_303_SEE_OTHER)
    settings: Settings = request.app.state.settings
    request.session["next"] = _next(next)
    extra = {"team": settings.slack_team_id} if settings.slack_team_id else {}
    redirect_uri = str(request.url_for("auth_callback"))
    return await oauth.console.authorize_redirect(request, redirect_uri, **extra)


@router.get("/auth/callback", name="auth_callback")
async def callback(request: Request) -> Response:
    from authlib.integrations.starlette_client import OAuthError

    oauth = request.app.state.oauth
    if oauth is None:
        raise HTTPException(404, "sign-in with OpenID Connect is not configured")
    try:
        token = await oauth.console.authorize_access_token(request)
    except OAuthError as exc:
        log.warning("sign-in refused: %s", exc.error)
        return sign_in_page(request, f"Sign-in failed: {exc.error}")
    claims = token.get("userinfo") or {}
    settings: Settings = request.app.state.settings
    team = claims.get("https://slack.com/team_id")
    # Slack's provider always names the workspace: a missing claim there is refused too. Other
    # providers (Okta, Google) name none; CONSOLE_DEFAULT_ROLE=none keeps their strangers out.
    slack_idp = "slack.com" in settings.oidc_discovery_url
    if settings.slack_team_id and team != settings.slack_team_id and (team or slack_idp):
        return sign_in_page(request, "That Slack workspace is not this Parley's.")
    user_id = str(claims.get("https://slack.com/user_id") or claims.get("sub") or "")
    if not user_id:
        return sign_in_page(request, "The identity provider sent no user id.")
    if await role_of(request, user_id) is Role.NONE:
        return sign_in_page(request, "You have no role in this console; ask an admin.")
    name = str(claims.get("name") or claims.get("email") or user_id)
    target = _next(request.session.get("next"))
    _start_session(request, {"id": user_id, "name": name, "via": "oidc"})
    log.info("console sign-in: %s (%s)", user_id, name)
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/auth/token")
async def token_login(
    request: Request,
    token: str = Form(max_length=1000),
    csrf: str = Form("", max_length=200),
    next: str = Form("/console", max_length=2000),
) -> Response:
    """No OIDC provider: PARLEY_API_TOKEN opens an admin session (never a JavaScript cookie)."""
    check_csrf(request, csrf)
    expected = request.app.state.settings.parley_api_token
    if not expected or not _same(token, expected):
        return sign_in_page(request, "That is not the API token.")
    _start_session(
        request, {"id": "", "name": "API token holder", "via": "token", "tok": _digest(expected)}
    )
    return RedirectResponse(_next(next), status.HTTP_303_SEE_OTHER)


@router.post("/auth/logout")
async def logout(request: Request, csrf: str = Form("", max_length=200)) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/console", status.HTTP_303_SEE_OTHER)
