"""Every action id, callback id and block-id prefix Parley puts in Slack, in one place.

Button values and modal private_metadata carry small pydantic models, serialised and parsed here
only, so that a handler never picks a string apart by hand. Modals' private_metadata is also
signed with the server's key (ModalMetadata).
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from itsdangerous import BadData, URLSafeSerializer
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# Alert message actions.
VIEW_IN_CONSOLE = "alert.view_console"
VIEW_IN_SOURCE = "alert.view_source"  # the alert in the tool that sent it ("View in Panther")
SET_ASSIGNEE = "alert.set_assignee"
UPDATE_STATUS = "alert.update_status"
SHOW_DETAILS = "alert.show_details"
THREAT_INTEL = "alert.threat_intel"
BOOMERANG = "alert.boomerang"

# Modals (callback ids) and their input blocks.
RESOLVE_MODAL = "modal.resolve"
RESOLVE_COMMENT_BLOCK = "resolution_comment"
RESOLVE_COMMENT_ACTION = "comment"

# The actions block of an alert message: "<prefix><revision>:<alert id>". Selects carry only
# their option value, so the alert id has to travel in the block id.
ALERT_ACTIONS_PREFIX = "parley.actions:"


class AlertRef(BaseModel):
    """What a button on an alert message or a modal needs to find its alert again."""

    alert_id: str
    channel: str | None = None
    message_ts: str | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def parse_ref(raw: str | None) -> AlertRef | None:
    if not raw:
        return None
    try:
        return AlertRef.model_validate_json(raw)
    except ValidationError:
        return None


def actions_block_id(alert_id: str, revision: int) -> str:
    # A fresh block id per revision makes Slack clients drop stale select state on re-render.
    return f"{ALERT_ACTIONS_PREFIX}{revision}:{alert_id}"


def alert_id_from_block_id(block_id: str | None) -> str | None:
    if not block_id or not block_id.startswith(ALERT_ACTIONS_PREFIX):
        return None
    _, _, alert_id = block_id[len(ALERT_ACTIONS_PREFIX) :].partition(":")
    return alert_id or None


# Boomerang 🪃: the asking modal, the DM's buttons and the free-text reply modal.
BOOMERANG_MODAL = "modal.boomerang"
BOOMERANG_RECIPIENT_BLOCK = "boomerang_recipient"
BOOMERANG_RECIPIENT_ACTION = "user"
BOOMERANG_QUESTION_BLOCK = "boomerang_question"
BOOMERANG_QUESTION_ACTION = "text"
BOOMERANG_SHARE_BLOCK = "boomerang_share"
BOOMERANG_SHARE_ACTION = "share"
BOOMERANG_SHARE_VALUE = "share_event"

BOOMERANG_YES = "boomerang.yes"
BOOMERANG_NO = "boomerang.no"
BOOMERANG_REPLY = "boomerang.reply"
BOOMERANG_REPLY_MODAL = "modal.boomerang_reply"
BOOMERANG_REPLY_BLOCK = "boomerang_reply"
BOOMERANG_REPLY_ACTION = "text"


class BoomerangRef(BaseModel):
    """Carried by the DM's buttons and the reply modal: which question, asked of whom."""

    boomerang_id: str
    recipient_id: str

    def dump(self) -> str:
        return self.model_dump_json()


def parse_boomerang_ref(raw: str | None) -> BoomerangRef | None:
    if not raw:
        return None
    try:
        return BoomerangRef.model_validate_json(raw)
    except ValidationError:
        return None


# Threat intel: the modal that picks which value to analyse.
INTEL_MODAL = "modal.threat_intel"
INTEL_VALUE_BLOCK = "intel_value"
INTEL_VALUE_ACTION = "value"


# Storm digest: one message per (channel, rule) during a storm, and its bulk-action modal.
STORM_LIST = "storm.list"
STORM_RESOLVE_ALL = "storm.resolve_all"
STORM_INVALID_ALL = "storm.invalid_all"
STORM_BULK_MODAL = "modal.storm_bulk"
STORM_COMMENT_BLOCK = "storm_comment"
STORM_COMMENT_ACTION = "comment"


class StormRef(BaseModel):
    """Carried by the digest's buttons and the bulk modal: which storm (and, in the modal, which
    status for all of its alerts)."""

    storm_id: str
    workflow_id: str
    status: str | None = None
    channel: str | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def parse_storm_ref(raw: str | None) -> StormRef | None:
    if not raw:
        return None
    try:
        return StormRef.model_validate_json(raw)
    except ValidationError:
        return None


class ModalMetadata:
    """Signs a modal's private_metadata with the server's key and reads back only what it signed.

    Slack returns private_metadata untouched in view_submission, so a valid signature proves
    Parley opened this modal with this content. The callback id salts the signature: metadata
    minted for one modal is refused by another. HMAC-SHA256 via itsdangerous.
    """

    def __init__(self, secret_key: str) -> None:
        self._key = secret_key

    def _serializer(self, callback_id: str) -> URLSafeSerializer:
        return URLSafeSerializer(
            self._key,
            salt=f"parley.modal/{callback_id}",
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def seal(self, callback_id: str, ref: BaseModel) -> str:
        return str(
            self._serializer(callback_id).dumps(ref.model_dump(mode="json", exclude_none=True))
        )

    def unseal(self, callback_id: str, raw: object, model: type[M]) -> M | None:
        """The model Parley signed for this modal, or None (missing, forged, altered, other)."""
        if not isinstance(raw, str) or not raw:
            return None
        try:
            return model.model_validate(self._serializer(callback_id).loads(raw))
        except (BadData, ValidationError):
            return None
