"""A read-only HTML view of the stand-in's channels, so a person can watch the demo."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from .blockkit import interactive_elements

if TYPE_CHECKING:
    from .standin import StandIn

_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#1d1c1d}"
    ".msg{border-left:3px solid #ddd;margin:.6em 0;padding:.2em .6em}"
    ".reply{margin-left:2em;border-color:#9cf}.meta{color:#888;font-size:.8em}"
    ".btn{display:inline-block;border:1px solid #aaa;border-radius:4px;padding:0 .4em;"
    "margin:.1em;font-size:.85em}pre{white-space:pre-wrap;margin:.2em 0}"
)


def _block_html(block: dict[str, Any]) -> str:
    parts: list[str] = []
    kind = block.get("type")
    if kind in ("header", "section", "markdown"):
        text = block.get("text")
        body = text.get("text", "") if isinstance(text, dict) else str(text or "")
        tag = "h3" if kind == "header" else "pre"
        parts.append(f"<{tag}>{escape(body)}</{tag}>")
        for f in block.get("fields", []) or []:
            parts.append(f"<pre>{escape(f.get('text', ''))}</pre>")
    elif kind == "context":
        texts = [e.get("text", "") for e in block.get("elements", []) if "text" in e]
        parts.append(f"<div class=meta>{escape(' · '.join(texts))}</div>")
    elif kind == "rich_text":
        parts.append(f"<pre>{escape(_rich_text(block))}</pre>")
    elif kind == "divider":
        parts.append("<hr>")
    for el in interactive_elements(block):
        label = el.get("text", {}).get("text") if el["type"] == "button" else el["type"]
        parts.append(
            f"<span class=btn title='{escape(el.get('action_id', ''))}'>{escape(str(label))}</span>"
        )
    return "".join(parts)


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            return str(node["text"])
        return "".join(_rich_text(e) for e in node.get("elements", []))
    if isinstance(node, list):
        return "".join(_rich_text(e) for e in node)
    return ""


def _message_html(msg: dict[str, Any], css: str = "msg") -> str:
    blocks = msg.get("blocks")
    inner = (
        "".join(_block_html(b) for b in blocks)
        if blocks
        else f"<pre>{escape(msg.get('text', ''))}</pre>"
    )
    meta = f"{escape(msg.get('user', '?'))} · ts {escape(msg['ts'])}"
    if msg.get("edited"):
        meta += " · edited"
    if msg.get("reply_count"):
        meta += f" · {msg['reply_count']} replies"
    return f"<div class='{css}'><div class=meta>{meta}</div>{inner}</div>"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def render_index(standin: StandIn) -> str:
    ws = standin.workspace
    with ws.lock:
        channels = sorted(ws.channels.values(), key=lambda c: (c.is_im, c.name))
        sections = [f"<h1>{escape(ws.team.name)} (Slack stand-in)</h1>"]
        for ch in channels:
            label = f"DM with {ch.im_user}" if ch.is_im else f"#{ch.name}"
            flags = " (archived)" if ch.is_archived else ""
            sections.append(f"<h2>{escape(label)} <small>{ch.id}{flags}</small></h2>")
            for msg in ws.top_level(ch.id):
                sections.append(_message_html(msg))
                if msg.get("reply_count") and msg.get("subtype") != "thread_broadcast":
                    for reply in ws.thread(ch.id, msg["ts"]):
                        sections.append(_message_html(reply, "msg reply"))
    return _page("Slack stand-in", "".join(sections))


def render_thread(standin: StandIn, channel: str, thread_ts: str, ts: str) -> str | None:
    ws = standin.workspace
    with ws.lock:
        msg = ws.find(channel, ts)
        if msg is None:
            return None
        parent = ws.find(channel, thread_ts) or msg
        parts = [f"<h2>{escape(channel)}</h2>", _message_html(parent)]
        for reply in ws.thread(channel, parent["ts"]):
            parts.append(_message_html(reply, "msg reply"))
    return _page(f"{channel} {ts}", "".join(parts))
