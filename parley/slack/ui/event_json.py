"""An alert's event as JSON that fits a Slack block, cut with care (issue 13; pure).

Tried as a new user would, a 12 kB Okta event used to come out key-sorted and cut blind at 2,500
characters: one long value filled the space and `eventType` and `outcome.reason` were gone. Now:
- the event's own key order is kept (it is the order the log source chose);
- long values are clipped one by one, each with a note of its original length, and deep or long
  containers are summarised, in steps, until the whole fits: every key down to a sensible depth
  stays visible;
- only when even that does not fit is the text cut (on a line boundary).
When the event did not fit as it is, the caller attaches the whole JSON as a file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

# (longest value, deepest level shown, items per list), tried in order until the event fits.
STEPS: tuple[tuple[int, int, int], ...] = (
    (300, 8, 25),
    (160, 6, 15),
    (80, 5, 8),
    (40, 4, 5),
    (20, 3, 3),
)
KEY_MAX = 80


@dataclass(frozen=True)
class EventText:
    text: str
    complete: bool  # the event as it is, not clipped
    cut: bool  # even clipped it did not fit: the text stops early


def dumps(value: Any) -> str:
    """Indented JSON in the event's own key order."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def clip_values(value: Any, value_max: int, depth_max: int, items_max: int, depth: int = 0) -> Any:
    """A copy of `value` with every long string clipped (noting its length) and containers
    deeper than `depth_max` or longer than `items_max` summarised."""
    if isinstance(value, str):
        if len(value) <= value_max:
            return value
        return f"{value[:value_max]}… ({len(value):,} characters)"
    if isinstance(value, dict):
        if depth >= depth_max and value:
            return f"{{… {len(value)} keys}}"
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if len(name) > KEY_MAX:
                name = f"{name[:KEY_MAX]}… ({len(name):,} characters)"
            out[name] = clip_values(item, value_max, depth_max, items_max, depth + 1)
        return out
    if isinstance(value, list):
        if depth >= depth_max and value:
            return f"[… {len(value)} items]"
        shown = [
            clip_values(v, value_max, depth_max, items_max, depth + 1) for v in value[:items_max]
        ]
        if len(value) > items_max:
            shown.append(f"… {len(value) - items_max} more items")
        return shown
    return value


def event_text(value: Any, limit: int) -> EventText:
    """The event as JSON within `limit` characters: whole if it fits, else clipped in steps."""
    text = dumps(value)
    if len(text) <= limit:
        return EventText(text, complete=True, cut=False)
    for value_max, depth_max, items_max in STEPS:
        text = dumps(clip_values(value, value_max, depth_max, items_max))
        if len(text) <= limit:
            return EventText(text, complete=False, cut=False)
    head = text[:limit]
    newline = head.rfind("\n")
    return EventText(head[:newline] if newline > limit // 2 else head, complete=False, cut=True)


class Attachment(BaseModel):
    """A file for a thread (files v2): its name is unique per key, so a retry can find it."""

    filename: str
    title: str
    content: str
    comment: str | None = None


def event_attachment(alert_id: str, event: Any, key: str, limit: int) -> Attachment | None:
    """The whole event as a file, when it does not fit in `limit` characters as it is. Its
    name is unique per alert and key (a retry finds the file it already shared)."""
    if event is None or event_text(event, limit).complete:
        return None
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", alert_id)[:80]
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return Attachment(
        filename=f"event-{safe}-{digest}.json",
        title=f"First event of alert {alert_id}"[:250],
        content=dumps(event),
    )
