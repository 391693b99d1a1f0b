"""aiohttp application: the Web API under /api/<method> and response_url endpoints.

aiohttp (not ASGI) because fault injection must be able to drop a connection mid-request.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from . import response_url
from .api_common import ApiError, as_str
from .api_conversations import OAUTH_SCOPES
from .api_files import add_file_routes
from .api_methods import METHODS
from .events import add_event_routes
from .faults import Fault
from .oidc import add_oidc_routes
from .stub_routes import add_stub_routes

if TYPE_CHECKING:
    from .standin import StandIn

_JOURNAL_HEADERS = ("content-type", "user-agent", "authorization")
_HTML_5XX = "<html><head><title>{0}</title></head><body><h1>{0} Server Error</h1></body></html>"


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


async def read_args(request: web.Request) -> dict[str, Any]:
    """Query string, then the body: JSON, form or multipart, as Slack accepts them."""
    args: dict[str, Any] = dict(request.query.items())
    if request.method != "POST" or not request.can_read_body:
        return args
    ctype = request.content_type
    if ctype == "multipart/form-data":
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args
    raw = await request.read()
    if not raw.strip():
        return args
    if ctype == "application/json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        # Slack takes the token of a JSON request only from the Authorization header.
        data.pop("token", None)
        args.update(data)
    elif ctype in ("application/x-www-form-urlencoded", "text/plain", "application/octet-stream"):
        try:
            args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise ApiError("invalid_form_data") from exc
    else:
        raise ApiError("invalid_post_type")
    return args


def request_token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return as_str(args.get("token")) or None


def _fault_response(request: web.Request, fault: Fault) -> tuple[web.Response, int | None, Any]:
    """The response a fault produces: (response, journal status, journal result)."""
    if fault.drop:
        # Close the socket: the client sees the server disconnect without any HTTP answer.
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500), None, None
    if fault.status == 429:
        body = {"ok": False, "error": "ratelimited"}
        retry = str(fault.retry_after if fault.retry_after is not None else 1)
        return json_response(body, 429, {"Retry-After": retry}), 429, body
    if fault.status is not None:
        html = _HTML_5XX.format(fault.status)
        return (
            web.Response(status=fault.status, text=html, content_type="text/html"),
            fault.status,
            html,
        )
    body = {"ok": False, "error": fault.error}
    return json_response(body, headers={"x-oauth-scopes": OAUTH_SCOPES}), 200, body


class ApiServer:
    def __init__(self, standin: StandIn) -> None:
        self.standin = standin

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        self.standin.socket_mode.add_routes(app)  # before /api/{method}, which would match
        add_oidc_routes(app, self.standin)  # Sign in with Slack; before /api/{method}
        app.router.add_route("GET", "/api/{method}", self.handle_api)
        app.router.add_route("POST", "/api/{method}", self.handle_api)
        app.router.add_route("POST", "/_stub/response/{rid:.+}", self.handle_response_url)
        add_stub_routes(app, self.standin)
        add_file_routes(app, self.standin)
        add_event_routes(app, self.standin)
        return app

    def _call(self, method: str, args: dict[str, Any], token: str | None) -> tuple[int, Any, dict]:
        """Rate limit, authenticate and run one method: (status, body, extra headers)."""
        spec = METHODS.get(method)
        if spec is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        retry = self.standin.limiter.check(method, spec.tier, as_str(args.get("channel")))
        if retry is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry)}
        if spec.needs_auth:
            if not token:
                return 200, {"ok": False, "error": "not_authed"}, {}
            if token != self.standin.bot_token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
        ws = self.standin.workspace
        with ws.lock:
            try:
                return 200, spec.handler(ws, args, self.standin.url), {}
            except ApiError as exc:
                return 200, exc.body(), {}

    async def handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        entry: dict[str, Any] = {
            "method": method,
            "http_method": request.method,
            "args": {},
            "headers": {h: request.headers[h] for h in _JOURNAL_HEADERS if h in request.headers},
            "time": time.time(),
        }
        generation = entry["generation"] = self.standin.workspace.generation
        try:
            args = await read_args(request)
        except ApiError as exc:
            return self._finish(entry, 200, exc.body(), json_response(exc.body()))
        entry["args"] = {k: v for k, v in args.items() if k != "token"}
        token = request_token(request, args)
        fault = self.standin.faults.take(method)
        if fault is not None:
            entry["fault"] = fault.describe()
            if fault.delay and not fault.after_effect:
                await asyncio.sleep(fault.delay)
            if not fault.after_effect and (fault.error or fault.status or fault.drop):
                resp, status, result = _fault_response(request, fault)
                return self._finish(entry, status, result, resp)
        if generation != self.standin.workspace.generation:
            # A reset happened while this request waited: it belongs to a finished test.
            return _fault_response(request, Fault(method=method, drop=True))[0]
        status, body, headers = self._call(method, args, token)
        if fault is not None and fault.after_effect:
            entry["performed"] = body
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.error or fault.status or fault.drop:
                resp, fstatus, result = _fault_response(request, fault)
                return self._finish(entry, fstatus, result, resp)
        headers = {"x-oauth-scopes": OAUTH_SCOPES, **headers}
        return self._finish(entry, status, body, json_response(body, status, headers))

    def _finish(
        self, entry: dict[str, Any], status: int | None, result: Any, resp: web.Response
    ) -> web.Response:
        entry["status"] = status
        entry["result"] = result
        ws = self.standin.workspace
        with ws.lock:
            if entry.pop("generation") == ws.generation:
                ws.journal.append(entry)
        return resp

    async def handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        raw = await request.read()
        try:
            if request.content_type == "application/json":
                body = json.loads(raw or b"{}")
            else:
                form = dict(parse_qsl(raw.decode("utf-8")))
                body = json.loads(form.get("payload", "{}"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_response({"ok": False, "error": "invalid_payload"}, 400)
        if not isinstance(body, dict):
            return json_response({"ok": False, "error": "invalid_payload"}, 400)
        url = f"{self.standin.url}{request.path}"
        ws = self.standin.workspace
        with ws.lock:
            status, out = response_url.handle(ws, rid, url, body)
        return json_response(out, status)
