"""The console's admin page: machine API tokens (create, revoke), and the roles and
destinations in force, for people with the admin role. Forms carry the session's CSRF token.

A new token is shown once, in the answer to the form that made it: never in the session
cookie, which is signed but not encrypted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console_auth import Role, console_user, require_role, sign_in_page
from api.deps import get_db
from api.pages import render
from parley.settings import Settings
from parley.store import api_tokens, destinations
from parley.store.db import Database

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request, db: Database, new_token: api_tokens.NewApiToken | None = None
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    context: dict[str, Any] = {
        "title": "Admin",
        "tokens": await api_tokens.listed(db),
        "destinations": await destinations.list_destinations(db),
        "settings": settings,
        "new_token": new_token,
    }
    return render(request, "admin.html", context)


@router.get("/console/admin")
async def admin_page(request: Request, db: Database = Depends(get_db)) -> HTMLResponse:
    user = await console_user(request)
    if user is None:
        return sign_in_page(request)
    if not user.can(Role.ADMIN):
        raise HTTPException(403, f"you are a {user.role_name}; this page is for admins")
    return await _page(request, db)


@router.post("/console/admin/tokens")
async def create_token(
    request: Request,
    name: str = Form(min_length=1, max_length=100),
    scope: str = Form(max_length=10),
    csrf: str = Form("", max_length=200),
    db: Database = Depends(get_db),
) -> HTMLResponse:
    user = await require_role(request, Role.ADMIN, csrf)
    if scope not in ("intake", "full"):
        raise HTTPException(422, "scope must be intake or full")
    made = await api_tokens.create(db, name.strip(), scope, created_by=user.id or user.name)  # type: ignore[arg-type]
    return await _page(request, db, new_token=made)


@router.post("/console/admin/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: str,
    request: Request,
    csrf: str = Form("", max_length=200),
    db: Database = Depends(get_db),
) -> RedirectResponse:
    await require_role(request, Role.ADMIN, csrf)
    await api_tokens.revoke(db, token_id)
    return RedirectResponse(request.url_for("admin_page").path, 303)
