"""FastAPI dependencies shared by the routers: settings, database, Temporal client, auth."""

from __future__ import annotations

import asyncio
import email.message
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request, Security, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyCookie, HTTPBearer

if TYPE_CHECKING:
    from parley.settings import Settings
    from parley.store.db import Database


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


async def temporal_client(app: Any) -> Any | None:
    """The app's Temporal client, connecting now if start-up could not."""
    if app.state.temporal is None:
        from parley.temporal import connect

        try:
            app.state.temporal = await asyncio.wait_for(connect(app.state.settings), 2.0)
        except Exception:
            return None
    return app.state.temporal


async def get_temporal(request: Request) -> Any:
    client = await temporal_client(request.app)
    if client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is not reachable")
    return client


SESSION_COOKIE = "parley_session"

# Declared for OpenAPI (a security scheme on the routes that need it); `token_ok` and the
# console (api/console_auth.py) do the checks themselves, and an empty token turns auth off.
bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="PARLEY_API_TOKEN as a bearer token"
)
token_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="cookie",
    description="the console's signed session cookie (HTML pages), set at sign-in",
)


def _same(given: str, expected: str) -> bool:
    # Bytes, because compare_digest raises TypeError on non-ASCII str (a 500 before auth).
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def token_ok(request: Request) -> bool:
    """The bearer token is PARLEY_API_TOKEN (or none is configured)."""
    expected = request.app.state.settings.parley_api_token
    if not expected:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _same(given.strip(), expected)


@dataclass(frozen=True)
class Caller:
    """Who called the REST API: PARLEY_API_TOKEN (an admin), or a machine token."""

    name: str
    scope: str  # "admin", "full" or "intake"


# The routes an intake-only token may call: alerts in Parley's shape, Panther's, and mapped.
INTAKE_ENDPOINTS = frozenset({"create_alert", "create_panther_alert", "create_mapped_alert"})


async def api_caller(request: Request) -> Caller | None:
    if hasattr(request.state, "api_caller"):
        return request.state.api_caller
    caller: Caller | None = None
    if token_ok(request):
        caller = Caller("PARLEY_API_TOKEN", "admin")
    else:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given.strip():
            from parley.store import api_tokens

            found = await api_tokens.lookup(get_db(request), given.strip())
            if found is not None:
                caller = Caller(found.name, found.scope)
    request.state.api_caller = caller
    return caller


async def require_token(request: Request, _credentials: Any = Security(bearer)) -> None:
    """Bearer-token check for the REST API: PARLEY_API_TOKEN (empty = auth off, dev) or a live
    machine token; an intake-only token may only send alerts."""
    caller = await api_caller(request)
    if caller is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing, wrong or revoked bearer token (PARLEY_API_TOKEN or an API token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    endpoint = getattr(request.scope.get("endpoint"), "__name__", "")
    if caller.scope == "intake" and endpoint not in INTAKE_ENDPOINTS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this API token may only send alerts (scope: intake)"
        )


async def require_admin(request: Request) -> None:
    """API tokens are managed with PARLEY_API_TOKEN only: a machine token cannot mint more."""
    caller = await api_caller(request)
    if caller is None or caller.scope != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only PARLEY_API_TOKEN may manage tokens")


# ---- input every store can hold ------------------------------------------------------------

MAX_JSON_DEPTH = 64  # pydantic's serializer (store, Temporal payloads) gives up near 255


def is_json(content_type: str) -> bool:
    """FastAPI's own rule for parsing a body as JSON: application/json or application/*+json."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _url_values(request: Request) -> list[tuple[tuple[str, str], str]]:
    values = [(("path", k), str(v)) for k, v in request.path_params.items()]
    return values + [(("query", k), f"{k}{v}") for k, v in request.query_params.multi_items()]


def _refuse_unstorable(values: list[tuple[tuple[str, str], str]]) -> None:
    bad = [(loc, why) for loc, value in values if (why := _bad_text(value)) is not None]
    if bad:
        raise RequestValidationError(
            [{"type": "string_unicode", "loc": loc, "msg": why} for loc, why in bad]
        )


async def storable_form(request: Request) -> None:
    """`storable_input` for the console's form posts: path, query and every form field."""
    values = _url_values(request)
    if request.method == "POST":
        form = await request.form()
        values += [(("form", k), v) for k, v in form.multi_items() if isinstance(v, str)]
    _refuse_unstorable(values)


async def storable_input(request: Request) -> None:
    """Path and query values, and a JSON body, hold text every store can keep; a body is JSON.

    FastAPI hands a non-JSON body to the model as bytes (a confusing 422), and lets through
    strings no store or Temporal payload can carry: lone UTF-16 surrogates (not Unicode at
    all), U+0000 (PostgreSQL text refuses it: a 500 even on a lookup) and nesting deeper than
    serializers go.
    """
    _refuse_unstorable(_url_values(request))
    if request.method not in ("POST", "PUT", "PATCH") or not await request.body():
        return  # an empty body: the route's validation says what is missing
    if not is_json(request.headers.get("content-type", "")):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with Content-Type: application/json",
        )
    try:
        data = await request.json()  # FastAPI parsed it already; this is its cached value
    except ValueError:
        return  # FastAPI has answered malformed JSON before dependencies run
    problem = _untextual(data)
    if problem is not None:
        loc, msg = problem
        raise RequestValidationError(
            [{"type": "string_unicode", "loc": ("body", *loc), "msg": msg}]
        )


def _untextual(data: Any) -> tuple[tuple[str | int, ...], str] | None:
    """Where the first string no store can hold is, and why; None if there is none.
    Iterative (a deep body must not exhaust the stack), in document order."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if len(loc) > MAX_JSON_DEPTH:
            return loc[:MAX_JSON_DEPTH], f"nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, dict):
            for key in value:
                if (why := _bad_text(key)) is not None:
                    return (*loc, key), f"key {why}"
            stack.extend(((*loc, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*loc, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str) and (why := _bad_text(value)) is not None:
            return loc, why
    return None


def _bad_text(s: str) -> str | None:
    if "\x00" in s:
        return "contains U+0000 (NUL), which cannot be stored"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate (e.g. \\ud800 without its pair); not Unicode"
    return None
