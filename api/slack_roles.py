"""Slack clicks follow the console's roles, for the destinations that ask for it.

Off by default: anyone in a channel may act, as before. For a destination named in
SLACK_ROLES_DESTINATIONS, a change (status, assignee, Boomerang) clicked by someone without the
analyst role is refused with an ephemeral note, and the refusal is recorded in the alert's
history. Looking at details and threat intel stays open to everyone in the channel.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from api.console_auth import Role, role_of
from api.signals import Refusal
from api.slack_common import Click, alert_id_of
from parley.domain import HistoryEntry
from parley.slack.ui import ids
from parley.store import destinations, repo

log = logging.getLogger("parley.slack.roles")
CHANGES = {ids.UPDATE_STATUS: "status", ids.SET_ASSIGNEE: "assignee", ids.BOOMERANG: "Boomerang"}


async def refuse_by_role(click: Click) -> None:
    """Raises Refusal when this click may not change the alert in this channel."""
    settings = click.request.app.state.settings
    what = CHANGES.get(str(click.action.get("action_id")))
    if not settings.slack_roles_destinations or what is None:
        return
    db = click.request.app.state.db
    guarded = {
        d.channel
        for d in await destinations.list_destinations(db)
        if d.name in settings.slack_roles_destinations
    }
    if click.channel not in guarded:
        return
    role = await role_of(click.request, click.actor.id)
    if role >= Role.ANALYST:
        return
    alert_id = alert_id_of(click)
    log.warning("refused %s's %s click on %s: role %s", click.actor.id, what, alert_id, role.name)
    entry = HistoryEntry(
        alert_id=alert_id,
        key=f"refused/{click.key(alert_id)}",
        at=datetime.now(UTC),
        actor=click.actor,
        action="click_refused",
        to_value=what,
        comment=f"{role.name.lower()} role: changes here need the analyst role",
    )
    try:
        await repo.record_history(db, entry)
    except repo.AlertNotFound:
        pass  # nothing to record it on; the person is still told
    raise Refusal(
        f"You are a {role.name.lower()} in Parley: changing the {what} of an alert in this "
        "channel needs the analyst role. Ask a Parley admin."
    )
