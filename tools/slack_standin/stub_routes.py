"""/_stub/* control endpoints (journal, reset, faults, clicks) and the sandbox page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import fault_from_json
from .sandbox import render_index, render_modal, render_pane, render_thread

if TYPE_CHECKING:
    from .standin import StandIn


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, default=str),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text="body must be JSON") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def add_stub_routes(app: web.Application, standin: StandIn) -> None:
    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method")
        entries = standin.calls(method) if method else standin.journal()
        return _json({"ok": True, "calls": entries})

    async def reset(request: web.Request) -> web.Response:
        standin.reset()
        return _json({"ok": True})

    async def add_fault(request: web.Request) -> web.Response:
        try:
            fault = fault_from_json(await _body(request))
            standin.faults.add(fault)
        except (TypeError, ValueError) as exc:
            return _json({"ok": False, "error": str(exc)}, 400)
        return _json({"ok": True, "faults": standin.faults.pending()})

    async def list_faults(request: web.Request) -> web.Response:
        return _json({"ok": True, "faults": standin.faults.pending()})

    async def clear_faults(request: web.Request) -> web.Response:
        standin.clear_faults()
        return _json({"ok": True})

    async def messages(request: web.Request) -> web.Response:
        channel = request.query.get("channel")
        if not channel:
            return _json({"ok": False, "error": "channel query parameter required"}, 400)
        out = []
        for msg in standin.messages(channel):
            if msg.get("reply_count") and msg.get("subtype") != "thread_broadcast":
                msg["replies"] = standin.replies(channel, msg["ts"])
            out.append(msg)
        return _json(
            {
                "ok": True,
                "channel": channel,
                "messages": out,
                "ephemerals": standin.ephemerals(channel),
            }
        )

    async def views(request: web.Request) -> web.Response:
        return _json({"ok": True, "views": standin.views(request.query.get("user"))})

    async def run_driver(request: web.Request, action: str) -> web.Response:
        data = await _body(request)
        driver = standin.driver
        try:
            if action == "click":
                result = await driver.click(
                    data["user"],
                    data["channel"],
                    data["ts"],
                    data["action_id"],
                    value=data.get("value"),
                    selected_option=data.get("selected_option"),
                    selected_user=data.get("selected_user"),
                )
            elif action == "submit":
                result = await driver.submit_view(data["user"], data["view_id"], data["values"])
            else:
                closed = await driver.close_view(data["user"], data["view_id"])
                if closed is None:
                    return _json({"ok": True, "sent": False})
                result = closed
        except KeyError as exc:
            return _json({"ok": False, "error": f"missing field {exc}"}, 400)
        except (LookupError, ValueError, RuntimeError) as exc:
            return _json({"ok": False, "error": str(exc)}, 400)
        return _json({"ok": True, **result.to_json()})

    async def click(request: web.Request) -> web.Response:
        return await run_driver(request, "click")

    async def submit(request: web.Request) -> web.Response:
        return await run_driver(request, "submit")

    async def close_view(request: web.Request) -> web.Response:
        return await run_driver(request, "close")

    def _html(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html", charset="utf-8")

    async def index(request: web.Request) -> web.Response:
        q = request.query
        return _html(render_index(standin, q.get("c"), q.get("as")))

    async def pane(request: web.Request) -> web.Response:
        return _html(render_pane(standin, request.query.get("c"), request.query.get("as")))

    async def modal(request: web.Request) -> web.Response:
        return _html(render_modal(standin, request.query.get("as", "")))

    async def archive(request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        plain = request.match_info["p"].removeprefix("p")
        ts = f"{plain[:-6]}.{plain[-6:]}"
        page = render_thread(standin, channel, request.query.get("thread_ts") or ts, ts)
        if page is None:
            raise web.HTTPNotFound(text="message not found")
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    app.router.add_get("/_stub/calls", calls)
    app.router.add_post("/_stub/reset", reset)
    app.router.add_post("/_stub/faults", add_fault)
    app.router.add_get("/_stub/faults", list_faults)
    app.router.add_delete("/_stub/faults", clear_faults)
    app.router.add_get("/_stub/messages", messages)
    app.router.add_get("/_stub/views", views)
    app.router.add_post("/_stub/click", click)
    app.router.add_post("/_stub/submit", submit)
    app.router.add_post("/_stub/close_view", close_view)
    app.router.add_get("/", index)
    app.router.add_get("/sandbox/pane", pane)
    app.router.add_get("/sandbox/modal", modal)
    app.router.add_get("/archives/{channel}/{p}", archive)
