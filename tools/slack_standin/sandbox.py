"""The stand-in's page: a small Slack you can click, for a newcomer without a workspace.

Channels and DMs in a sidebar, threads under their messages, Block Kit rendered (mrkdwn with
mentions by name and `<!date>` formatted, emoji shortcodes as emoji, fields, context, rich text,
buttons, static and user selects), an "acting as" switcher, ephemeral messages shown only to
their user, modals as overlays with `response_action: errors` on their fields, and new messages
and edits appearing without a reload (the page polls its pane).

Clicks and submissions go to `/_stub/click` and `/_stub/submit`: the same driver, so the same
signed payloads, as tests send; the sandbox exercises the real path. Everything shown is
escaped here (html.escape) before any markup is added.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import emoji

if TYPE_CHECKING:
    from .seed import Channel
    from .standin import StandIn
    from .workspace import Workspace

# Slack's own names that the emoji package spells differently.
_SLACK_EMOJI = {
    "large_yellow_circle": "🟡",
    "large_orange_circle": "🟠",
    "large_green_circle": "🟢",
    "large_purple_circle": "🟣",
    "large_brown_circle": "🟤",
    "simple_smile": "🙂",
}
_TOKEN = re.compile(r"<([^<>]+)>")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")


# ---- mrkdwn --------------------------------------------------------------------------------


def _emoji(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _SLACK_EMOJI:
            return _SLACK_EMOJI[name]
        out = emoji.emojize(m.group(0), language="alias")
        return out if out != m.group(0) else m.group(0)

    return _EMOJI.sub(one, text)


def _styles(html_text: str) -> str:
    """Slack's inline styles on already-escaped text."""
    html_text = re.sub(r"```(.+?)```", r"<pre>\1</pre>", html_text, flags=re.S)
    html_text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", html_text)
    html_text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", html_text)
    html_text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", html_text)
    html_text = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", html_text)
    html_text = re.sub(r"(?m)^&gt; ?(.*)$", r"<blockquote>\1</blockquote>", html_text)
    return html_text.replace("\n", "<br>")


def _unescape(text: str) -> str:
    """Slack escapes &, < and > in message text; undo it before escaping for HTML."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _date(token: str) -> str:
    # <!date^1392734382^{date_short} at {time}|fallback>
    body, _, fallback = token.partition("|")
    parts = body.split("^")
    try:
        at = datetime.fromtimestamp(int(parts[1]), UTC)
    except (IndexError, ValueError):
        return escape(fallback or token)
    fmt = parts[2] if len(parts) > 2 else "{date_short}"
    words = {
        "{date_num}": at.strftime("%Y-%m-%d"),
        "{date}": at.strftime("%B %d, %Y"),
        "{date_short}": at.strftime("%b %d, %Y"),
        "{date_long}": at.strftime("%A, %B %d, %Y"),
        "{date_pretty}": at.strftime("%b %d, %Y"),
        "{date_short_pretty}": at.strftime("%b %d, %Y"),
        "{date_long_pretty}": at.strftime("%A, %B %d, %Y"),
        "{time}": at.strftime("%H:%M"),
        "{time_secs}": at.strftime("%H:%M:%S"),
        "{ago}": at.strftime("%b %d, %Y %H:%M"),
    }
    for key, value in words.items():
        fmt = fmt.replace(key, value)
    return f'<time datetime="{at.isoformat()}">{escape(fmt)} UTC</time>'


def mrkdwn(text: str, ws: Workspace) -> str:
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(_styles(escape(_emoji(_unescape(text[pos : m.start()])))))
        out.append(_token(m.group(1), ws))
        pos = m.end()
    out.append(_styles(escape(_emoji(_unescape(text[pos:])))))
    return "".join(out)


def _token(token: str, ws: Workspace) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{escape(_user_name(ws, target[1:]))}</span>'
    if target.startswith("#"):
        ch = ws.channels.get(target[1:])
        name = label or (ch.name if ch else target[1:])
        return f'<span class="mention">#{escape(name)}</span>'
    if target.startswith("!date^"):
        return _date(token[1:])
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        return f'<span class="mention">@{escape(label or word)}</span>'
    if target.startswith(("http://", "https://", "mailto:")):
        return (
            f'<a href="{escape(_unescape(target))}" rel="noopener noreferrer" target="_blank">'
            f"{escape(_unescape(label or target))}</a>"
        )
    return escape(f"<{_unescape(token)}>")


def _user_name(ws: Workspace, user_id: str) -> str:
    if user_id == ws.bot.user_id:
        return ws.bot.name
    user = ws.users.get(user_id)
    return (user.real_name or user.name) if user else user_id


def _text(obj: Any, ws: Workspace) -> str:
    if not isinstance(obj, dict):
        return escape(str(obj or ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), ws)
    return escape(_emoji(str(obj.get("text", ""))))


# ---- Block Kit ------------------------------------------------------------------------------


def _element(el: dict[str, Any], ws: Workspace, block_id: str, msg_ts: str) -> str:
    kind = el.get("type")
    common = (
        f'data-action="{escape(str(el.get("action_id", "")))}" '
        f'data-block="{escape(block_id)}" data-ts="{escape(msg_ts)}"'
    )
    if kind == "button":
        style = escape(str(el.get("style", "")))
        url = el.get("url")
        if url:
            return (
                f'<a class="btn {style}" href="{escape(url)}" target="_blank" '
                f'rel="noopener noreferrer">{_text(el.get("text"), ws)}</a>'
            )
        value = escape(str(el.get("value", "")))
        return (
            f'<button class="btn act {style}" data-kind="button" data-value="{value}" {common}>'
            f"{_text(el.get('text'), ws)}</button>"
        )
    if kind in ("static_select", "overflow"):
        options = list(el.get("options") or [])
        for group in el.get("option_groups") or []:
            options += group.get("options") or []
        placeholder = _text(el.get("placeholder"), ws) if kind == "static_select" else "⋯"
        initial = (el.get("initial_option") or {}).get("value")
        opts = "".join(
            f'<option value="{escape(str(o.get("value", "")))}"'
            f"{' selected' if o.get('value') == initial else ''}>"
            f"{_text(o.get('text'), ws)}</option>"
            for o in options
        )
        return (
            f'<select class="act" data-kind="option" {common}>'
            f'<option value="" disabled{"" if initial else " selected"}>{placeholder}</option>'
            f"{opts}</select>"
        )
    if kind == "users_select":
        people = [u for u in ws.users.values() if not u.deleted and not u.is_bot]
        initial = el.get("initial_user")
        opts = "".join(
            f'<option value="{escape(u.id)}"{" selected" if u.id == initial else ""}>'
            f"{escape(u.real_name or u.name)}</option>"
            for u in people
        )
        return (
            f'<select class="act" data-kind="user" {common}>'
            f'<option value="" disabled{"" if initial else " selected"}>'
            f"{_text(el.get('placeholder'), ws) or 'Select a person'}</option>{opts}</select>"
        )
    if kind == "image":
        return f'<img class="thumb" alt="{escape(str(el.get("alt_text", "")))}">'
    if kind in ("mrkdwn", "plain_text"):
        return _text(el, ws)
    return f'<span class="unsupported">[{escape(str(kind))}]</span>'


def _rich(node: Any, ws: Workspace) -> str:
    if isinstance(node, list):
        return "".join(_rich(n, ws) for n in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        html_text = escape(str(node.get("text", ""))).replace("\n", "<br>")
        style = node.get("style") or {}
        for flag, tag in (("bold", "b"), ("italic", "i"), ("strike", "s"), ("code", "code")):
            if style.get(flag):
                html_text = f"<{tag}>{html_text}</{tag}>"
        return html_text
    if kind == "user":
        return f'<span class="mention">@{escape(_user_name(ws, str(node.get("user_id"))))}</span>'
    if kind == "channel":
        ch = ws.channels.get(str(node.get("channel_id")))
        name = ch.name if ch else str(node.get("channel_id"))
        return f'<span class="mention">#{escape(name)}</span>'
    if kind == "link":
        url = str(node.get("url", ""))
        return (
            f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">'
            f"{escape(str(node.get('text') or url))}</a>"
        )
    if kind == "emoji":
        return escape(_emoji(f":{node.get('name', '')}:"))
    inner = _rich(node.get("elements", []), ws)
    if kind == "rich_text_preformatted":
        return f"<pre>{inner}</pre>"
    if kind == "rich_text_quote":
        return f"<blockquote>{inner}</blockquote>"
    if kind == "rich_text_list":
        items = "".join(f"<li>{_rich(e, ws)}</li>" for e in node.get("elements", []))
        tag = "ol" if node.get("style") == "ordered" else "ul"
        return f"<{tag}>{items}</{tag}>"
    return inner


def block_html(block: dict[str, Any], ws: Workspace, msg_ts: str) -> str:
    kind = block.get("type")
    bid = str(block.get("block_id", ""))
    if kind == "header":
        return f"<h3>{_text(block.get('text'), ws)}</h3>"
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(f'<div class="text">{_text(block["text"], ws)}</div>')
        if block.get("fields"):
            fields = "".join(f"<div>{_text(f, ws)}</div>" for f in block["fields"])
            parts.append(f'<div class="fields">{fields}</div>')
        if isinstance(block.get("accessory"), dict):
            parts.append(
                f'<div class="accessory">{_element(block["accessory"], ws, bid, msg_ts)}</div>'
            )
        return f'<div class="section">{"".join(parts)}</div>'
    if kind == "markdown":
        return f'<div class="text">{mrkdwn(str(block.get("text", "")), ws)}</div>'
    if kind == "context":
        items = " ".join(_element(e, ws, bid, msg_ts) for e in block.get("elements", []))
        return f'<div class="context">{items}</div>'
    if kind == "divider":
        return "<hr>"
    if kind == "actions":
        items = "".join(_element(e, ws, bid, msg_ts) for e in block.get("elements", []))
        return f'<div class="actions">{items}</div>'
    if kind == "rich_text":
        return f'<div class="text">{_rich(block.get("elements", []), ws)}</div>'
    if kind == "image":
        return f'<div class="context">[image: {escape(str(block.get("alt_text", "")))}]</div>'
    return f'<div class="unsupported">[{escape(str(kind))} block]</div>'


def message_html(msg: dict[str, Any], ws: Workspace, css: str = "msg") -> str:
    ts = str(msg.get("ts", ""))
    blocks = msg.get("blocks")
    if blocks:
        inner = "".join(block_html(b, ws, ts) for b in blocks)
    else:
        inner = f'<div class="text">{mrkdwn(str(msg.get("text", "")), ws)}</div>'
    who = _user_name(ws, str(msg.get("user") or msg.get("bot_id") or ""))
    try:
        at = datetime.fromtimestamp(float(ts), UTC).strftime("%H:%M:%S")
    except ValueError:
        at = ts
    flags = ' <span class="muted">(edited)</span>' if "edited" in msg else ""
    if css == "msg ephemeral":
        flags += ' <span class="only-you">Only visible to you</span>'
    return (
        f'<div class="{css}" data-ts="{escape(ts)}"><div class="meta"><b>{escape(who)}</b> '
        f'<span class="muted">{escape(at)}</span>{flags}</div>{inner}</div>'
    )


# ---- the page ---------------------------------------------------------------------------------


def _label(ch: Channel, ws: Workspace) -> str:
    if ch.is_im:
        return "@" + _user_name(ws, ch.im_user or "")
    return ("🔒" if ch.is_private else "#") + ch.name


def _default_channel(ws: Workspace) -> str:
    latest = max(((msgs[-1]["ts"], cid) for cid, msgs in ws.top.items() if msgs), default=None)
    if latest:
        return latest[1]
    return next((c.id for c in ws.channels.values() if not c.is_im), "")


def _pane(ws: Workspace, channel: str, user: str) -> str:
    ch = ws.channels.get(channel)
    if ch is None:
        return '<div id="pane-body"><p class="muted">No such channel.</p></div>'
    parts = [f'<div id="pane-body"><h2 id="channel-name">{escape(_label(ch, ws))}</h2>']
    for msg in ws.top_level(channel):
        parts.append(message_html(msg, ws))
        if msg.get("reply_count") and msg.get("subtype") != "thread_broadcast":
            replies = "".join(
                message_html(r, ws, "msg reply") for r in ws.thread(channel, msg["ts"])
            )
            parts.append(f'<div class="thread" data-parent="{escape(msg["ts"])}">{replies}</div>')
    mine = [e for e in ws.ephemerals if e["channel"] == channel and e["user"] == user]
    parts.extend(message_html(e, ws, "msg ephemeral") for e in mine)
    if not ws.top_level(channel) and not mine:
        parts.append('<p class="muted">No messages yet.</p>')
    parts.append("</div>")
    return "".join(parts)


def render_pane(standin: StandIn, channel: str | None, user: str | None) -> str:
    ws = standin.workspace
    with ws.lock:
        return _pane(ws, channel or _default_channel(ws), user or _default_user(ws))


def _default_user(ws: Workspace) -> str:
    return next((u.id for u in ws.users.values() if not u.deleted and not u.is_bot), "")


def render_modal(standin: StandIn, user: str) -> str:
    """The user's top open modal as an overlay (empty when none is open)."""
    ws = standin.workspace
    with ws.lock:
        views = ws.views.open_views(user)
        if not views:
            return ""
        view = views[-1]
        rec = ws.views.records.get(view["id"])
        errors = (rec.errors if rec else None) or {}
        body = []
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                body.append(block_html(block, ws, ""))
                continue
            bid = str(block.get("block_id", ""))
            el = block.get("element") or {}
            aid = escape(str(el.get("action_id", "")))
            label = _text(block.get("label"), ws)
            if el.get("type") == "plain_text_input":
                tag = "textarea" if el.get("multiline") else "input"
                field = (
                    f'<{tag} class="modal-input" data-block="{escape(bid)}" data-action="{aid}"'
                    f' placeholder="{escape(str((el.get("placeholder") or {}).get("text", "")))}">'
                    + (f"</{tag}>" if tag == "textarea" else "")
                )
            else:
                field = _element(el, ws, bid, "").replace('class="act"', 'class="modal-input"')
            if not block.get("optional"):
                field = field.replace('class="modal-input"', 'class="modal-input" required', 1)
            problem = errors.get(bid)
            err = f'<div class="field-error">{escape(str(problem))}</div>' if problem else ""
            body.append(f'<label class="input">{label}{field}</label>{err}')
        title = _text(view.get("title"), ws)
        submit = _text(view.get("submit"), ws) or "Submit"
        close = _text(view.get("close"), ws) or "Cancel"
    return (
        f'<div class="overlay"><div class="modal" data-view="{escape(view["id"])}">'
        f"<h3>{title}</h3>{''.join(body)}"
        f'<div class="modal-buttons"><button id="modal-close">{close}</button>'
        f'<button id="modal-submit" class="primary">{submit}</button></div></div></div>'
    )


@cache
def _asset(name: str) -> str:
    """The page's stylesheet and script, kept beside this module as plain files."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


def render_index(standin: StandIn, channel: str | None = None, user: str | None = None) -> str:
    ws = standin.workspace
    with ws.lock:
        channel = channel if channel in ws.channels else _default_channel(ws)
        user = user if user in ws.users else _default_user(ws)
        team = ws.team.name
        people = [u for u in ws.users.values() if not u.deleted and not u.is_bot]
        chans = sorted(ws.channels.values(), key=lambda c: (c.is_im, c.name))

        def link(ch: Channel) -> str:
            on = ' class="on"' if ch.id == channel else ""
            href = "/?" + urlencode({"c": ch.id, "as": user})
            label = escape(_label(ch, ws))
            return f'<a{on} href="{escape(href)}" data-channel="{escape(ch.id)}">{label}</a>'

        side = "".join(link(c) for c in chans if not c.is_im)
        dms = "".join(link(c) for c in chans if c.is_im)
        options = "".join(
            f'<option value="{escape(u.id)}"{" selected" if u.id == user else ""}>'
            f"{escape(u.real_name or u.name)}</option>"
            for u in people
        )
        pane = _pane(ws, channel, user)
    modal = render_modal(standin, user)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{escape(team)} · Slack stand-in</title>"
        f"<style>{_asset('sandbox.css')}</style></head>"
        f'<body data-channel="{escape(channel)}" data-user="{escape(user)}">'
        f"<aside><h1>{escape(team)}</h1><label>Acting as<br>"
        f'<select id="acting-as">{options}</select></label>'
        f"<h4>Channels</h4>{side}<h4>Direct messages</h4>{dms or '<p>None yet.</p>'}</aside>"
        f'<main><p id="status-line" role="status"></p><div id="pane">{pane}</div></main>'
        f'<div id="modal-root">{modal}</div><script>{_asset("sandbox.js")}</script></body></html>'
    )


def render_thread(standin: StandIn, channel: str, thread_ts: str, ts: str) -> str | None:
    """A permalink: the page for the message's channel (None if there is no such message)."""
    ws = standin.workspace
    with ws.lock:
        if ws.find(channel, ts) is None:
            return None
    return render_index(standin, channel, None)
