"""Publish one person's App Home tab (issue 13): read the store, render, `views.publish`.

Used by the API when the person opens the tab (`app_home_opened`) and by the worker when
something on it changed. Published whole, without a `hash`: the latest state always wins.
"""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from parley.slack.ui.home import home_view
from parley.store.db import Database
from parley.store.home import home_data


async def publish_home(
    db: Database, client: AsyncWebClient, user_id: str, console_base_url: str
) -> None:
    data = await home_data(db, user_id, datetime.now(UTC))
    await client.views_publish(user_id=user_id, view=home_view(data, console_base_url))
