"""One error shape for every error answer, and the OpenAPI that documents it.

Clients are generated from the schema, so an error must look the same whichever layer refused
the request (validation, a route, auth, routing, the body-size cap). Answers never echo the
request back: no `input` values, and every string is clipped, because a 300 kB field would
otherwise come back in full and a lone surrogate in it would break the JSON encoder (a 500).
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

MAX_PROBLEMS = 20
MAX_DETAIL = 500
MAX_MESSAGE = 200
MAX_LOC_PART = 64
# `error` per status, spelled here: Python's own phrases change between versions (413).
KINDS = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "content too large",
    415: "unsupported media type",
    422: "invalid input",
    500: "internal server error",
    503: "service unavailable",
}


class InputError(BaseModel):
    """One invalid part of a request: where (`loc`), what is wrong and pydantic's error type."""

    loc: list[str | int] = Field(description='e.g. ["body", "created_at"]')
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str = Field(
        description="the kind of error, one per status: " + ", ".join(KINDS.values()),
        examples=["invalid input"],
    )
    detail: str = Field(description="what went wrong, for people", max_length=MAX_DETAIL)
    problems: list[str] = Field(
        default_factory=list,
        description="one line per invalid part of the request (422), at most "
        f"{MAX_PROBLEMS} and a last '… more' line",
    )
    errors: list[InputError] = Field(
        default_factory=list, description="the same problems, structured (422)"
    )


def clip(text: object, limit: int) -> str:
    """Bounded, and encodable: lone surrogates become visible escapes instead of a 500."""
    s = text if isinstance(text, str) else str(text)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        return "error"


def error_response(
    status: int,
    detail: str,
    *,
    problems: list[InputError] | None = None,
    more: int = 0,
    headers: dict[str, str] | None = None,
) -> Response:
    if not is_body_allowed_for_status_code(status):
        return Response(status_code=status, headers=headers)
    items = problems or []
    lines = [clip(_line(p), MAX_MESSAGE + 100) for p in items]
    if more:
        lines.append(f"… and {more} more problems")
    body = ErrorBody(
        error=KINDS.get(status) or phrase(status).lower(),
        detail=clip(detail, MAX_DETAIL),
        problems=lines,
        errors=items,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _line(problem: InputError) -> str:
    where = ".".join(str(p) for p in problem.loc if p != "body")
    return f"{where}: {problem.msg}" if where else problem.msg


def _problem(err: Any) -> InputError:
    loc = err.get("loc", ()) if isinstance(err, dict) else ()
    return InputError(
        loc=[p if isinstance(p, int) else clip(p, MAX_LOC_PART) for p in loc],
        msg=clip(err.get("msg", "invalid"), MAX_MESSAGE),
        type=clip(err.get("type", "value_error"), MAX_LOC_PART),
    )


async def on_validation_error(_: Request, exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    problems = [_problem(e) for e in errors[:MAX_PROBLEMS]]
    lines = "; ".join(_line(p) for p in problems[:3])
    return error_response(
        422, f"invalid input: {lines}", problems=problems, more=len(errors) - len(problems)
    )


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else phrase(exc.status_code)
    return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def on_crash(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback and re-raises after this answer; clients still get the shape.
    return error_response(500, "Parley failed on this request; the error is logged")


def responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for routes: these error statuses, each documented with `ErrorBody`."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        text = descriptions.get(f"e{status}") or _DESCRIPTIONS.get(status)
        out[status] = {"model": ErrorBody, "description": text or phrase(status)}
    return out


_DESCRIPTIONS = {
    400: "The body could not be read as JSON (e.g. not UTF-8)",
    401: "Missing or wrong bearer token (PARLEY_API_TOKEN)",
    413: "The request body is too large",
    415: "The body is not JSON: send Content-Type: application/json",
    422: "Invalid input: `problems` and `errors` say which parts",
    503: "Temporal is not reachable; nothing was changed, try again",
}


JSON_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its own 422 body (`HTTPValidationError`); Parley sends `ErrorBody`."""
    ref = "#/components/schemas/HTTPValidationError"
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            content = (answer or {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == ref:
                answer.update(description=_DESCRIPTIONS[422], content=copy.deepcopy(JSON_ERROR))
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema
