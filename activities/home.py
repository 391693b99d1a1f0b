"""The App Home's re-publish after a change (issue 13): the workflow names who is affected, and
the change's own fan-out activity (activities/slack_fanout.py) publishes their Homes after the
copies: no extra activity, so a change still costs the same workflow events."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio import activity
from temporalio.exceptions import ApplicationError

from parley.slack.errors import PERMANENT, raise_for_slack
from parley.slack.home import publish_home
from parley.store.db import Database


class HomePublisher:
    def __init__(self, db: Database, client: AsyncWebClient) -> None:
        self.db = db
        self.client = client

    async def publish(self, user_ids: list[str], console_base_url: str) -> list[str]:
        """Re-publish each person's Home; returns those Slack refused for good (not a user,
        Home tab off). A rate limit or an outage is raised, so the activity retries."""
        refused = []
        for user_id in user_ids:
            try:
                await publish_home(self.db, self.client, user_id, console_base_url)
            except SlackApiError as exc:
                try:
                    raise_for_slack(exc)
                except ApplicationError as typed:
                    if typed.type != PERMANENT:
                        raise
                    activity.logger.warning("Home of %s not published: %s", user_id, typed)
                    refused.append(user_id)
        return refused
