"""Files v2 (issue 13): files.getUploadURLExternal, the upload URL, files.completeUploadExternal.

As Slack's (docs.slack.dev/reference/methods/files.getUploadURLExternal and
files.completeUploadExternal; /work/shared/notes/slack-more.md §3):
- step 1 needs `filename` and a positive `length`; `alt_txt` ≤ 1000 characters, `snippet_type`
  from a known list, snippets ≤ 1 MB, files ≤ `MAX_FILE_BYTES`;
- step 2 POSTs the bytes, raw or multipart and unauthenticated, to the URL, answered
  `OK - <bytes>`; an unknown or already used URL is a 404;
- step 3 can be called once per file: it shares the files in one channel (`channel_id`, with
  `thread_ts` for a thread) or in several (`channels`, at most 100), posting one bot message
  that carries them; a file never uploaded, or already completed, is `file_not_found`.
  Left uncompleted, an upload is discarded.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .api_common import ApiError, as_str, json_field
from .workspace import Workspace

if TYPE_CHECKING:
    from .standin import StandIn

MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack's 1 GB per file
MAX_SNIPPET_BYTES = 1024 * 1024
MAX_ALT_TXT = 1000
MAX_CHANNELS = 100
SNIPPET_TYPES = {"auto", "text", "json", "python", "javascript", "yaml", "shell", "sql", "diff"}


def _files(ws: Workspace) -> dict[str, dict[str, Any]]:
    return ws.files  # on the workspace, so that a reset (Workspace.reload) forgets uploads too


def get_upload_url(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    filename = as_str(args.get("filename"))
    raw_length = as_str(args.get("length"))
    if not filename or not raw_length:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: filename/length"])
    try:
        length = int(raw_length)
    except ValueError as exc:
        raise ApiError("invalid_arguments") from exc
    if length <= 0:
        raise ApiError("missing_argument")
    alt_txt = as_str(args.get("alt_txt")) or ""
    if len(alt_txt) > MAX_ALT_TXT:
        raise ApiError("alt_txt_too_large")
    snippet = as_str(args.get("snippet_type"))
    if snippet and snippet not in SNIPPET_TYPES:
        raise ApiError("unknown_snippet_type")
    if snippet and length > MAX_SNIPPET_BYTES:
        raise ApiError("snippet_too_large")
    if length > MAX_FILE_BYTES:
        raise ApiError("file_upload_size_restricted")
    file_id = "F" + secrets.token_hex(5).upper()
    ticket = secrets.token_urlsafe(12)
    _files(ws)[file_id] = {
        "id": file_id,
        "name": filename,
        "length": length,
        "alt_txt": alt_txt,
        "snippet_type": snippet,
        "ticket": ticket,
        "content": None,
        "completed": False,
        "created": int(ws.now()),
    }
    return {"ok": True, "upload_url": f"{url}/upload/v1/{ticket}", "file_id": file_id}


def complete_upload(ws: Workspace, args: dict[str, Any], url: str) -> dict[str, Any]:
    items = json_field(args.get("files"), "invalid_arguments")
    if not isinstance(items, list) or not items:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: files"])
    store = _files(ws)
    chosen = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ApiError("invalid_arguments")
        f = store.get(item["id"])
        if f is None or f["completed"] or f["content"] is None:
            raise ApiError("file_not_found")
        chosen.append((f, as_str(item.get("title")) or f["name"]))
    channel_id = as_str(args.get("channel_id"))
    channels = [c for c in (as_str(args.get("channels")) or "").split(",") if c]
    if channel_id:
        channels = [channel_id, *channels]
    if len(channels) > MAX_CHANNELS:
        raise ApiError("channels_limit_exceeded")
    thread_ts = as_str(args.get("thread_ts")) or None
    if thread_ts and len(channels) != 1:
        raise ApiError("invalid_arguments", ["[ERROR] thread_ts needs exactly one channel"])
    targets = []
    for cid in channels:
        ch = ws.visible_channel(cid)
        if ch.is_archived:
            raise ApiError("is_archived")
        if ws.bot.user_id not in ch.members:
            raise ApiError("not_in_channel")
        targets.append(ch.id)
    comment = as_str(args.get("initial_comment")) or ""
    objs = []
    for f, title in chosen:
        f["completed"] = True
        f["title"] = title
        objs.append(_file_object(ws, f, url, targets))
    for cid in targets:
        msg = ws.post(cid, comment, None, thread_ts=thread_ts)
        msg["files"] = copy.deepcopy(objs)
        msg["upload"] = True
        msg["display_as_bot"] = False
    return {"ok": True, "files": objs}


def _file_object(ws: Workspace, f: dict[str, Any], url: str, channels: list[str]) -> dict[str, Any]:
    return {
        "id": f["id"],
        "created": f["created"],
        "timestamp": f["created"],
        "name": f["name"],
        "title": f["title"],
        "mimetype": "application/json" if f["name"].endswith(".json") else "text/plain",
        "filetype": f["snippet_type"] or "text",
        "user": ws.bot.user_id,
        "size": len(f["content"] or b""),
        "is_public": any(not ws.channels[c].is_private for c in channels),
        "url_private": f"{url}/files-pri/{ws.team.id}-{f['id']}/{f['name']}",
        "permalink": f"{url}/files/{ws.bot.user_id}/{f['id']}/{f['name']}",
        "alt_txt": f["alt_txt"] or None,
        "channels": [c for c in channels if not ws.channels[c].is_private],
        "groups": [c for c in channels if ws.channels[c].is_private and not ws.channels[c].is_im],
        "ims": [c for c in channels if ws.channels[c].is_im],
    }


def add_file_routes(app: web.Application, standin: StandIn) -> None:
    async def upload(request: web.Request) -> web.Response:
        ticket = request.match_info["ticket"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = next(iter(form.values()), None)
            data = part.file.read() if hasattr(part, "file") else str(part or "").encode()
        else:
            data = await request.read()
        ws = standin.workspace
        with ws.lock:
            f = next((f for f in _files(ws).values() if f["ticket"] == ticket), None)
            if f is None or f["content"] is not None:
                return web.Response(status=404, text="Not Found")
            f["content"] = data
            ws.journal.append(
                {
                    "method": "files.upload_url",
                    "http_method": "POST",
                    "args": {"file_id": f["id"], "bytes": len(data)},
                    "headers": {},
                    "time": ws.now(),
                    "status": 200,
                    "result": f"OK - {len(data)}",
                }
            )
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    app.router.add_route("POST", "/upload/v1/{ticket}", upload)


def file_content(standin: StandIn, file_id: str) -> Any:
    """What was uploaded for a file, parsed as JSON when it is (for tests)."""
    with standin.workspace.lock:
        f = _files(standin.workspace).get(file_id)
        data = None if f is None else f["content"]
    if data is None:
        raise LookupError(f"no uploaded file {file_id}")
    try:
        return json.loads(data)
    except ValueError:
        return data
