"""`app_home_opened` (issue 13): publish the person's Home tab, after the event is acked.

`views.publish` needs no trigger and changes no alert, so the API publishes directly (as the
worker does after a change that touches someone's Home), in the background: the event's ack
does not wait for Slack.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from api.outbox import spawn
from parley.slack.home import publish_home
from parley.slack.ui.text import SLACK_USER_ID

log = logging.getLogger("parley.slack")


async def opened(request: Request, event: dict[str, Any]) -> None:
    user = event.get("user")
    if event.get("tab") != "home" or not isinstance(user, str) or not SLACK_USER_ID.fullmatch(user):
        return
    app = request.app

    async def publish() -> None:
        try:
            await publish_home(
                app.state.db, app.state.slack, user, app.state.settings.console_base_url
            )
        except Exception as exc:  # the tab shows its last view; the next open tries again
            log.warning("App Home of %s not published: %s", user, exc)

    spawn(publish())
