"""Slack clicks follow the console's roles, for the destinations that ask for it.

Off by default: anyone in a channel may act, as before. For a destination named in
SLACK_ROLES_DESTINATIONS, a change (status, assignee, Boomerang, a storm's bulk action) clicked
by someone without the analyst role is refused with an ephemeral note, and an alert's refusal is
recorded in its history. Looking at details and threat intel stays open to everyone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import Request

from api.console_auth import Role, role_of
from api.signals import Refusal
from api.slack_common import Click, alert_id_of
from parley.domain import HistoryEntry
from parley.slack.ui import ids
from parley.store import destinations, repo

log = logging.getLogger("parley.slack.roles")
CHANGES = {ids.UPDATE_STATUS: "status", ids.SET_ASSIGNEE: "assignee", ids.BOOMERANG: "Boomerang"}
# A storm's digest changes every alert of the storm at once (its modal is checked again).
STORM_CHANGES = {ids.STORM_RESOLVE_ALL: "storm", ids.STORM_INVALID_ALL: "storm"}


async def short_of_analyst(request: Request, channel: str | None, user_id: str) -> Role | None:
    """The person's role when this channel follows roles and it is below analyst, else None."""
    settings = request.app.state.settings
    if not settings.slack_roles_destinations:
        return None
    guarded = {
        d.channel
        for d in await destinations.list_destinations(request.app.state.db)
        if d.name in settings.slack_roles_destinations
    }
    if channel not in guarded:
        return None
    role = await role_of(request, user_id)
    return role if role < Role.ANALYST else None


def refusal_text(role: Role, what: str) -> str:
    return (
        f"You are a {role.name.lower()} in Parley: changing the {what} of an alert in this "
        "channel needs the analyst role. Ask a Parley admin."
    )


async def refuse_by_role(click: Click) -> None:
    """Raises Refusal when this click may not change the alert in this channel."""
    action_id = str(click.action.get("action_id"))
    what = CHANGES.get(action_id) or STORM_CHANGES.get(action_id)
    if what is None:
        return
    role = await short_of_analyst(click.request, click.channel, click.actor.id)
    if role is None:
        return
    if action_id in STORM_CHANGES:
        log.warning("refused %s's storm click in %s: role %s", click.actor.id, click.channel, role)
        raise Refusal(refusal_text(role, "alerts of a storm"))
    db = click.request.app.state.db
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
    raise Refusal(refusal_text(role, what))
