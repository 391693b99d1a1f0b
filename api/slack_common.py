"""What every Slack interaction handler shares: the parsed click or submission, modals, notes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from slack_sdk.errors import SlackApiError

from api.signals import Refusal
from parley.domain import Actor
from parley.settings import Settings
from parley.slack.client import send_ephemeral
from parley.slack.errors import error_code
from parley.slack.ui import ids

log = logging.getLogger("parley.slack")
M = TypeVar("M", bound=BaseModel)
# A view_submission whose private_metadata Parley did not sign (a modal it never opened).
FORM_NOT_OURS = "Parley did not open this form as it is now; close it and open it again."

_background: set[asyncio.Task[None]] = set()


def not_for_us(payload: dict[str, Any], settings: Settings) -> str | None:
    """Why a signed interaction is not for our Slack app and workspace, or None.

    Slack recommends checking `api_app_id` and `team.id` besides the signature; each check runs
    when its setting (SLACK_APP_ID, SLACK_TEAM_ID) is configured. A payload without them fails.
    """
    if settings.slack_app_id:
        apps = [payload.get("api_app_id")]
        view = payload.get("view")
        if isinstance(view, dict) and "app_id" in view:  # a modal names the app that opened it
            apps.append(view["app_id"])
        if any(app != settings.slack_app_id for app in apps):
            return "this interaction is for another Slack app"
    if settings.slack_team_id:
        team, user = payload.get("team"), payload.get("user")
        team_id = team.get("id") if isinstance(team, dict) else None
        if team is None and isinstance(user, dict):  # org-wide installs may send no team
            team_id = user.get("team_id")
        if team_id != settings.slack_team_id:
            return "this interaction comes from another Slack workspace"
    return None


def actor_of(payload: dict[str, Any]) -> Actor:
    user = payload["user"]
    return Actor(source="slack", id=user["id"], name=user.get("name") or user.get("username") or "")


@dataclass
class Click:
    """One block_actions payload, reduced to what handlers use."""

    request: Request
    payload: dict[str, Any]
    action: dict[str, Any]
    actor: Actor

    @property
    def response_url(self) -> str | None:
        return self.payload.get("response_url")

    @property
    def channel(self) -> str | None:
        channel = (self.payload.get("channel") or {}).get("id")
        return channel or (self.payload.get("container") or {}).get("channel_id")

    @property
    def message_ts(self) -> str | None:
        return (self.payload.get("container") or {}).get("message_ts")

    @property
    def trigger_id(self) -> str:
        return str(self.payload["trigger_id"])

    def key(self, scope: str) -> str:
        """Idempotency key: the same click delivered twice has the same action_ts."""
        return f"{self.action.get('action_ts')}:{self.actor.id}:{scope}"

    def origin(self, alert_id: str) -> dict[str, Any]:
        """The fields every request from a person carries (workflows.alert_types.Request)."""
        return {
            "actor": self.actor,
            "key": self.key(alert_id),
            "response_url": self.response_url,
            "reply_channel": self.channel,
        }


@dataclass
class Submission:
    """One view_submission payload: the modal's inputs, who sent it, and what it was about."""

    request: Request
    payload: dict[str, Any]

    @property
    def view(self) -> dict[str, Any]:
        return self.payload["view"]

    @property
    def actor(self) -> Actor:
        return actor_of(self.payload)

    @property
    def key(self) -> str:
        """Idempotency key: Slack may deliver one submission more than once, never two views."""
        return f"view:{self.view['id']}:{self.actor.id}"

    def ref(self, model: type[M]) -> M | None:
        """What Parley signed into this modal's private_metadata, or None if it signed nothing:
        a submission must carry what Parley minted when it opened the modal."""
        callback_id = str(self.view.get("callback_id"))
        return modal_metadata(self.request).unseal(
            callback_id, self.view.get("private_metadata"), model
        )

    def value(self, block_id: str, action_id: str) -> dict[str, Any]:
        """One input's state: {"type": ..., "value" | "selected_…": ...}."""
        return self.view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id, {})

    def text(self, block_id: str, action_id: str) -> str:
        return (self.value(block_id, action_id).get("value") or "").strip()


def modal_metadata(request: Request) -> ids.ModalMetadata:
    """Signs and checks modals' private_metadata with PARLEY_SECRET_KEY."""
    return ids.ModalMetadata(request.app.state.settings.parley_secret_key)


def field_error(block_id: str, message: str) -> JSONResponse:
    """The view_submission answer that keeps the modal open with a message on one field."""
    return JSONResponse({"response_action": "errors", "errors": {block_id: message}})


async def close_or_refuse(block_id: str, send: Awaitable[None]) -> Response:
    """Send what the modal asked for; a refusal keeps the modal open with it on `block_id`."""
    try:
        await send
    except Refusal as refusal:
        return field_error(block_id, str(refusal))
    return Response(status_code=200)


def alert_id_of(click: Click) -> str:
    ref = ids.parse_ref(click.action.get("value"))
    alert_id = ref.alert_id if ref else ids.alert_id_from_block_id(click.action.get("block_id"))
    if not alert_id:
        raise Refusal("Parley could not tell which alert this button belongs to.")
    return alert_id


def click_ref(click: Click, alert_id: str) -> ids.AlertRef:
    """What a modal opened from this click needs to find the alert and the clicked copy."""
    return ids.AlertRef(alert_id=alert_id, channel=click.channel, message_ts=click.message_ts)


async def open_modal(request: Request, trigger_id: str, view: dict[str, Any]) -> None:
    """views.open at once: the trigger_id is good for 3 s and one use."""
    try:
        await request.app.state.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", error_code(exc))
        raise Refusal(
            "Slack did not let Parley open the form in time; please click again."
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise Refusal("Slack did not answer in time; please click again.") from exc


def tell_later(response_url: str | None, text: str) -> None:
    """An ephemeral note via response_url, after the ack (Slack ignores the ack's body)."""
    if not response_url:
        log.info("no response_url to tell the user: %s", text)
        return

    async def send() -> None:
        try:
            await send_ephemeral(response_url, text, timeout=5)
        except Exception as exc:  # the user simply sees nothing; the log says why
            log.warning("response_url post failed: %s", exc)

    task = asyncio.get_running_loop().create_task(send())
    _background.add(task)
    task.add_done_callback(_background.discard)
