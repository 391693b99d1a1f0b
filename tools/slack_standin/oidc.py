"""Sign in with Slack (OpenID Connect), played by the stand-in: the identity provider for tests
and `make run`.

As Slack does (docs: Sign in with Slack; methods openid.connect.token / openid.connect.userInfo):
- `/.well-known/openid-configuration` (issuer = the stand-in's URL) and a JWKS at
  `/openid/connect/keys`; id_tokens are RS256-signed with a `kid`, carry `nonce` and `at_hash`;
- `/openid/connect/authorize` checks `response_type=code`, the client id, a redirect URI
  registered for the client (prefix match, as Slack's redirect URLs) and the `openid` scope, then
  shows a page to pick a stand-in user (no password: the stand-in is for tests);
- `openid.connect.token` takes the client's credentials by HTTP Basic or in the form, a code
  once, within 10 minutes, with the same redirect_uri; errors are HTTP 200
  `{"ok": false, "error": ...}` (invalid_code, bad_client_secret, invalid_client_id,
  bad_redirect_uri, invalid_grant_type);
- `openid.connect.userInfo` takes the `xoxp-` access token as a bearer.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

if TYPE_CHECKING:
    from .standin import StandIn

# The one OIDC client the stand-in knows (a Slack app's Client ID / Client Secret).
CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret"
# Redirect URLs registered for it: a redirect_uri must start with one of them.
REDIRECT_PREFIXES = ("http://127.0.0.1:", "http://localhost:")
CODE_TTL_SECONDS = 600
ID_TOKEN_TTL_SECONDS = 3600


@dataclass
class _Code:
    user_id: str
    redirect_uri: str
    nonce: str | None
    expires: float


class OidcProvider:
    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, str] = {}  # xoxp- access token -> user id

    @property
    def issuer(self) -> str:
        return self.standin.url

    # ---- pages and endpoints ---------------------------------------------------------------

    async def discovery(self, _: web.Request) -> web.Response:
        base = self.issuer
        return web.json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/openid/connect/authorize",
                "token_endpoint": f"{base}/api/openid.connect.token",
                "userinfo_endpoint": f"{base}/api/openid.connect.userInfo",
                "jwks_uri": f"{base}/openid/connect/keys",
                "scopes_supported": ["openid", "profile", "email"],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "auth_time", "iss"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
            }
        )

    async def keys(self, _: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False) | {"use": "sig"}]})

    def _authorize_problem(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != CLIENT_ID:
            return "invalid_client_id"
        if not params.get("redirect_uri", "").startswith(REDIRECT_PREFIXES):
            return "bad_redirect_uri"
        if params.get("response_type") != "code":
            return "invalid_response_type"
        # slack_sdk joins scopes with commas, Authlib with spaces: both are accepted.
        scopes = params.get("scope", "").replace(",", " ").split()
        if "openid" not in scopes:
            return "invalid_scope"
        return None

    async def authorize(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        problem = self._authorize_problem(params)
        if problem:
            return _page("Sign in failed", f"<p class=err id=oidc-error>{escape(problem)}</p>", 400)
        ws = self.standin.workspace
        with ws.lock:
            people = [u for u in ws.users.values() if not u.deleted and not u.is_bot]
            team = ws.team.name
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in params.items()
        )
        buttons = "".join(
            f'<button name="user" value="{escape(u.id)}" id="as-{escape(u.id)}">'
            f"{escape(u.real_name or u.name)} <small>@{escape(u.name)}</small></button>"
            for u in people
        )
        body = (
            f"<h1>Sign in to {escape(team)}</h1><p>Continue as:</p>"
            f'<form method="post" action="/openid/connect/authorize">{hidden}{buttons}</form>'
        )
        return _page("Sign in with Slack", body)

    async def approve(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        problem = self._authorize_problem(form)
        user_id = form.get("user", "")
        ws = self.standin.workspace
        with ws.lock:
            user = ws.users.get(user_id)
        if problem is None and (user is None or user.deleted or user.is_bot):
            problem = "invalid_user"
        if problem:
            return _page("Sign in failed", f"<p class=err id=oidc-error>{escape(problem)}</p>", 400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(
            user_id, form["redirect_uri"], form.get("nonce"), time.time() + CODE_TTL_SECONDS
        )
        query = {"code": code} | ({"state": form["state"]} if "state" in form else {})
        sep = "&" if "?" in form["redirect_uri"] else "?"
        raise web.HTTPFound(f"{form['redirect_uri']}{sep}{urlencode(query)}")

    async def token(self, request: web.Request) -> web.Response:
        raw = await request.read()
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return _error("invalid_client_id")
        if client_id != CLIENT_ID:
            return _error("invalid_client_id")
        if secret != CLIENT_SECRET:
            return _error("bad_client_secret")
        if form.get("grant_type") != "authorization_code":
            return _error("invalid_grant_type")
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant.expires < time.time():
            return _error("invalid_code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("bad_redirect_uri")
        access = "xoxp-" + secrets.token_hex(20)
        self.tokens[access] = grant.user_id
        claims = self._claims(grant.user_id) | {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "exp": int(time.time()) + ID_TOKEN_TTL_SECONDS,
            "auth_time": int(time.time()),
            "at_hash": _at_hash(access),
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        id_token = jwt.encode(header, claims, self.key)
        return web.json_response(
            {"ok": True, "access_token": access, "token_type": "Bearer", "id_token": id_token}
        )

    async def userinfo(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return _error("not_authed")
        user_id = self.tokens.get(auth[7:].strip())
        if user_id is None:
            return _error("invalid_auth")
        ws = self.standin.workspace
        with ws.lock:
            team = ws.team
        about_team = {
            "https://slack.com/team_name": team.name,
            "https://slack.com/team_domain": team.domain,
        }
        return web.json_response({"ok": True, **self._claims(user_id), **about_team})

    def _claims(self, user_id: str) -> dict[str, Any]:
        ws = self.standin.workspace
        with ws.lock:
            user = ws.users[user_id]
            team_id = ws.team.id
        given, _, family = (user.real_name or user.name).partition(" ")
        return {
            "sub": user.id,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": team_id,
            "email": user.email,
            "email_verified": bool(user.email),
            "name": user.real_name or user.name,
            "given_name": given,
            "family_name": family,
            "locale": "en-US",
        }


def _at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the SHA-256 of the access token, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:30em;margin:3em auto}"
        "button{display:block;width:100%;margin:.4em 0;padding:.6em;font-size:1em}"
        ".err{color:#b00020}</style></head><body>"
        f"{body}</body></html>"
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def add_oidc_routes(app: web.Application, standin: StandIn) -> OidcProvider:
    """Register before `/api/{method}`: aiohttp matches routes in the order they were added."""
    provider = OidcProvider(standin)
    app.router.add_get("/.well-known/openid-configuration", provider.discovery)
    app.router.add_get("/openid/connect/keys", provider.keys)
    app.router.add_get("/openid/connect/authorize", provider.authorize)
    app.router.add_post("/openid/connect/authorize", provider.approve)
    app.router.add_post("/api/openid.connect.token", provider.token)
    app.router.add_get("/api/openid.connect.userInfo", provider.userinfo)
    app.router.add_post("/api/openid.connect.userInfo", provider.userinfo)
    return provider
