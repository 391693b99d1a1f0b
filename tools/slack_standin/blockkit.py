"""Block Kit validation in Slack's words, plus the normalisation Slack applies to stored blocks.

Messages follow Slack's `response_metadata.messages` style:
``[ERROR] must be less than 3001 characters [json-pointer:/blocks/11/text/text]``.
Limits come from docs.slack.dev/reference/block-kit and slack_sdk's model classes.
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

from .elements import ACTIONABLE, ElementChecker

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MARKDOWN_CUMULATIVE_MAX = 12_000
# Undocumented aggregate limit observed by slackapi/bolt-js#2509 (~13.2k characters).
MSG_BLOCKS_TEXT_MAX = 13_200

_SHALLOW_BLOCKS = {"rich_text", "file", "video", "table", "context_actions"}
_ID_CHARS = string.ascii_letters + string.digits


class BlockChecker(ElementChecker):
    """Validates a list of blocks for one surface ("message" or "modal")."""

    def __init__(self, surface: str) -> None:
        super().__init__()
        self.surface = surface
        self.markdown_chars = 0

    def blocks(self, blocks: Any, ptr: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.err("must provide an array", ptr)
            return
        if len(blocks) > max_blocks:
            self.err(f"no more than {max_blocks} items allowed", ptr)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            bptr = f"{ptr}/{i}"
            if not self.obj(block, bptr):
                continue
            block_id = block.get("block_id")
            if block_id is not None and self.string(block_id, f"{bptr}/block_id", 255):
                if block_id in seen:
                    self.err(f'`block_id` "{block_id}" already exists', f"{bptr}/block_id")
                seen.add(block_id)
            self.block(block, bptr)
        if self.markdown_chars > MARKDOWN_CUMULATIVE_MAX:
            self.err(
                f"markdown blocks must be less than {MARKDOWN_CUMULATIVE_MAX + 1} characters "
                "in total",
                ptr,
            )

    def block(self, b: dict[str, Any], ptr: str) -> None:
        btype = b.get("type")
        if not self.required(b, "type", ptr) or not self.string(btype, f"{ptr}/type", 255):
            return
        handler = getattr(self, f"_block_{btype}", None)
        if btype == "markdown" and self.surface != "message":
            handler = None  # markdown blocks exist only in messages
        if handler is None and btype in _SHALLOW_BLOCKS:
            return
        if handler is None:
            self.err(f"unsupported type: {btype}", f"{ptr}/type")
            return
        handler(b, ptr)

    def _block_section(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "text", "fields", "accessory", "expand"}, ptr)
        if "text" not in b and "fields" not in b:
            self.err("missing required field: text", ptr)
        if "text" in b:
            self.text(b["text"], f"{ptr}/text", 3000)
        if "fields" in b:
            fields = b["fields"]
            if self.array(fields, f"{ptr}/fields", 1, 10):
                for i, f in enumerate(fields):
                    self.text(f, f"{ptr}/fields/{i}", 2000)
        if "accessory" in b:
            self.element(b["accessory"], f"{ptr}/accessory", "accessory")

    def _block_divider(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id"}, ptr)

    def _block_header(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "text"}, ptr)
        if self.required(b, "text", ptr):
            self.text(b["text"], f"{ptr}/text", 150, plain_only=True)

    def _block_context(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "elements"}, ptr)
        if not self.required(b, "elements", ptr):
            return
        els = b["elements"]
        if self.array(els, f"{ptr}/elements", 1, 10):
            for i, el in enumerate(els):
                eptr = f"{ptr}/elements/{i}"
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(el, eptr, 3000)
                else:
                    self.element(el, eptr, "context")

    def _block_actions(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "elements"}, ptr)
        if not self.required(b, "elements", ptr):
            return
        els = b["elements"]
        if not self.array(els, f"{ptr}/elements", 1, 25):
            return
        seen: set[str] = set()
        for i, el in enumerate(els):
            eptr = f"{ptr}/elements/{i}"
            self.element(el, eptr, "actions")
            action_id = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(action_id, str):
                # Verified against live Slack: duplicate action_ids in one block are refused.
                if action_id in seen:
                    self.err(f'`action_id` "{action_id}" already exists', f"{eptr}/action_id")
                seen.add(action_id)

    def _block_image(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "image_url", "slack_file", "alt_text", "title"}, ptr)
        self.image_fields(b, ptr)
        if "title" in b:
            self.text(b["title"], f"{ptr}/title", 2000, plain_only=True)

    def _block_input(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(
            b, {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"}, ptr
        )
        if self.required(b, "label", ptr):
            self.text(b["label"], f"{ptr}/label", 2000, plain_only=True)
        if "hint" in b:
            self.text(b["hint"], f"{ptr}/hint", 2000, plain_only=True)
        if self.required(b, "element", ptr):
            self.element(b["element"], f"{ptr}/element", "input")

    def _block_markdown(self, b: dict[str, Any], ptr: str) -> None:
        self.allowed(b, {"type", "block_id", "text"}, ptr)
        if self.required(b, "text", ptr) and self.string(b["text"], f"{ptr}/text", 12_000):
            self.markdown_chars += len(b["text"])


def _format_errors(checker: BlockChecker) -> list[str]:
    return list(checker.errors)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Errors for a message's `blocks` (empty list = valid)."""
    checker = BlockChecker("message")
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return _format_errors(checker)


_VIEW_KEYS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}


def check_view_kind(
    checker: BlockChecker, view: dict[str, Any], ptr: str, kind: str, keys: set[str]
) -> None:
    """The keys a view of this kind may have, and its `type` (modal and home views alike)."""
    checker.allowed(view, keys, ptr)
    if checker.required(view, "type", ptr) and view["type"] != kind:
        checker.err("must be a valid enum value", f"{ptr}/type")


def check_view_ids(checker: BlockChecker, view: dict[str, Any], ptr: str) -> None:
    """private_metadata (3,000 characters), callback_id and external_id (255), any view."""
    if "private_metadata" in view:
        checker.string(view["private_metadata"], f"{ptr}/private_metadata", 3000, min_len=0)
    for key in ("callback_id", "external_id"):
        if key in view:
            checker.string(view[key], f"{ptr}/{key}", 255, min_len=0)


def validate_view(view: Any, ptr: str = "/view") -> list[str]:
    """Errors for a modal view as passed to views.open/update/push (Slack: invalid_arguments)."""
    checker = BlockChecker("modal")
    if not checker.obj(view, ptr):
        return _format_errors(checker)
    check_view_kind(checker, view, ptr, "modal", _VIEW_KEYS)
    if checker.required(view, "title", ptr):
        checker.text(view["title"], f"{ptr}/title", 24, plain_only=True)
    for key in ("close", "submit"):
        if key in view:
            checker.text(view[key], f"{ptr}/{key}", 24, plain_only=True)
    check_view_ids(checker, view, ptr)
    if checker.required(view, "blocks", ptr):
        checker.blocks(view["blocks"], f"{ptr}/blocks", MAX_VIEW_BLOCKS)
        blocks = view["blocks"] if isinstance(view["blocks"], list) else []
        for i, b in enumerate(blocks):
            if isinstance(b, dict) and b.get("type") == "input" and "submit" not in view:
                checker.err(
                    "must define `submit` to use an `input` block in modals",
                    f"{ptr}/blocks/{i}/input",
                )
                break
    return _format_errors(checker)


def new_id(length: int = 5) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def _normalize_node(node: Any) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "plain_text" and "text" in node:
            node.setdefault("emoji", True)
        elif kind == "mrkdwn" and "text" in node:
            node.setdefault("verbatim", False)
        for value in node.values():
            _normalize_node(value)
    elif isinstance(node, list):
        for item in node:
            _normalize_node(item)


def interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements a block holds (actions elements, accessory, input element)."""
    found: list[dict[str, Any]] = []
    candidates: list[Any] = []
    if block.get("type") == "actions":
        candidates.extend(block.get("elements") or [])
    candidates.append(block.get("accessory"))
    candidates.append(block.get("element"))
    for el in candidates:
        if isinstance(el, dict) and el.get("type") in ACTIONABLE:
            found.append(el)
    return found


def normalize_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy blocks the way Slack stores them: generated block_id/action_id, emoji/verbatim."""
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", new_id())
        for el in interactive_elements(block):
            el.setdefault("action_id", new_id())
    _normalize_node(out)
    return out


def _texts(node: Any, acc: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                acc.append(value)
            else:
                _texts(value, acc)
    elif isinstance(node, list):
        for item in node:
            _texts(item, acc)


def blocks_text_length(blocks: list[dict[str, Any]]) -> int:
    acc: list[str] = []
    _texts(blocks, acc)
    return sum(len(t) for t in acc)


def fallback_text(blocks: list[dict[str, Any]]) -> str:
    """Slack builds `text` from the blocks when the caller sends none."""
    parts: list[str] = []
    for block in blocks:
        if block.get("type") in ("section", "header", "markdown", "context"):
            acc: list[str] = []
            _texts({k: v for k, v in block.items() if k != "accessory"}, acc)
            parts.extend(acc)
    return "\n".join(parts)
