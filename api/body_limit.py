"""A cap on request bodies, applied before anything reads them (the Slack signature check and
FastAPI's JSON parsing both need the whole body first).

Starlette has a body limit too, but when Content-Length is over it, it swaps whatever the app
answers for a plain-text 413; Parley's error answers all have one JSON shape (api/errors.py).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than the {limit} bytes allowed here")


class BodyLimit:
    """Refuse a body over the path's limit: up front from Content-Length, or as soon as a
    streamed body passes it, so at most one chunk past the cap is ever read."""

    def __init__(self, app: ASGIApp, default: int, per_path: dict[str, int]) -> None:
        self.app, self.default, self.per_path = app, default, per_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # Raised inside the app, so its exception handlers answer in the one error shape.
            async def refuse() -> Message:
                raise too_large(limit)

            await self.app(scope, refuse, send)
            return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, capped, send)
