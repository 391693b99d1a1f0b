"""Console store writes. The workflow owns the history; these activities only persist it.

Every write is idempotent (history rows are keyed per alert), so Temporal may retry freely.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import activity

from activities.people import PeopleDirectory
from parley import metrics
from parley.domain import HistoryEntry, SlackCopy, Status
from parley.store import repo
from parley.store.db import Database
from parley.store.questions import Question, save_question


class ProjectionRequest(BaseModel):
    """The alert's current status and assignee, as the console lists them."""

    alert_id: str
    status: Status
    assignee_id: str | None
    assignee_name: str
    resolution_comment: str | None


class SaveCopyRequest(BaseModel):
    alert_id: str
    target: SlackCopy
    permalink: str | None = None


class StoreWrite(BaseModel):
    """Everything one change writes to the console store, in one local activity."""

    alert_id: str
    entries: list[HistoryEntry] = Field(default_factory=list)
    projection: ProjectionRequest | None = None
    copies: list[SaveCopyRequest] = Field(default_factory=list)
    # Boomerang questions asked or closed by this change (issue 13: typed answers, App Home).
    questions: list[Question] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.entries or self.projection or self.copies or self.questions)


class HistoryActivities:
    def __init__(self, db: Database, people: PeopleDirectory | None = None) -> None:
        self.db = db
        # The worker's people directory (activities/people.py): the Slack people a write names
        # get their display names saved for the console. None: names stay as the rows carry them.
        self.people = people

    @activity.defn(name="history.record")
    async def record(self, entry: HistoryEntry) -> bool:
        written = await repo.record_history(self.db, entry)
        # Counted once: a retried write finds its row (keyed) and returns False.
        if written and entry.action == "delivery_failed":
            metrics.DELIVERY_FAILURES.inc()
        return written

    @activity.defn(name="history.project")
    async def project(self, p: ProjectionRequest) -> None:
        await repo.update_alert_projection(
            self.db,
            p.alert_id,
            status=p.status,
            assignee_id=p.assignee_id,
            assignee_name=p.assignee_name,
            resolution_comment=p.resolution_comment,
        )

    @activity.defn(name="history.save_copy")
    async def save_copy(self, req: SaveCopyRequest) -> None:
        await repo.save_slack_copy(self.db, req.alert_id, req.target, req.permalink)

    @activity.defn(name="store.write")
    async def write(self, w: StoreWrite) -> None:
        """History rows, then the projection, then the copies: each write is idempotent, so a
        retry after a partial write completes it. Run as a local activity (one marker event).
        Last, the people the rows name are brought up to date in the people directory."""
        for entry in w.entries:
            await self.record(entry)
        if w.projection:
            await self.project(w.projection)
        for copy in w.copies:
            await self.save_copy(copy)
        for question in w.questions:
            await save_question(self.db, question)
        if self.people is not None:
            await self.people.note(w)  # bounded, never raises: the rows above are written

    def all(self) -> list[object]:
        return [self.record, self.project, self.save_copy, self.write]
