"""Block Kit for the App Home tab (issue 13; pure): what is waiting for one person.

Three lists: alerts assigned to them and not closed, Boomerang questions waiting for their answer
(with the DM's buttons), alerts they closed in the last 7 days. Each entry links to its Slack
message and its console page. At most 100 blocks (Slack's limit for a Home view).
"""

from __future__ import annotations

from typing import Any

from parley.domain import Severity
from parley.slack.ui.alert import SEVERITY_EMOJI, console_url
from parley.slack.ui.boomerang import answer_actions
from parley.slack.ui.text import escaped, mrkdwn, plain, user_mention
from parley.store.home import CLOSED_DAYS, HomeAlert, HomeData

HOME_CALLBACK = "parley.home"
MAX_BLOCKS = 100


def _emoji(severity: str) -> str:
    try:
        return SEVERITY_EMOJI[Severity(severity)]
    except ValueError:
        return ""


def _links(alert_id: str, permalink: str | None, console_base_url: str) -> str:
    console = f"<{console_url(console_base_url, alert_id)}|console>"
    return f"<{permalink}|Slack message> · {console}" if permalink else console


def _alert_line(a: HomeAlert, console_base_url: str) -> dict[str, Any]:
    text = (
        f"{_emoji(a.severity)} *{escaped(a.title, 500)}* · {escaped(a.status, 20)}\n"
        f"`{escaped(a.alert_id, 128)}` · {_links(a.alert_id, a.permalink, console_base_url)}"
    )
    return {"type": "section", "text": mrkdwn(text)}


def _empty(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def home_view(data: HomeData, console_base_url: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain("Waiting for you in Parley", 150)},
        {"type": "section", "text": mrkdwn("*🙋 Assigned to you*")},
    ]
    blocks += [_alert_line(a, console_base_url) for a in data.assigned] or [
        _empty("Nothing assigned to you is open.")
    ]
    blocks += [{"type": "divider"}, {"type": "section", "text": mrkdwn("*🪃 Questions for you*")}]
    for q in data.questions:
        quoted = ">" + escaped(q.question, 1500).replace("\n", "\n>")
        text = (
            f"{user_mention(q.asker_id)} asks about *{escaped(q.alert_title, 500)}*\n{quoted}\n"
            f"{_links(q.alert_id, q.permalink, console_base_url)}"
        )
        blocks.append({"type": "section", "text": mrkdwn(text)})
        blocks.append(
            answer_actions(q.boomerang_id, data.user_id, f"home.boomerang:{q.boomerang_id}"[:255])
        )
    if not data.questions:
        blocks.append(_empty("No question is waiting for your answer."))
    blocks += [
        {"type": "divider"},
        {"type": "section", "text": mrkdwn(f"*✅ Closed by you in the last {CLOSED_DAYS} days*")},
    ]
    blocks += [_alert_line(a, console_base_url) for a in data.closed] or [
        _empty(f"You closed no alert in the last {CLOSED_DAYS} days.")
    ]
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": blocks[:MAX_BLOCKS]}
