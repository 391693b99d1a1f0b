"""Parley's configuration, read from environment variables.

Every variable is listed in the README's Configuration table (a test keeps the two in step), so
anyone can point the service at real infrastructure. Every duration is configurable so that tests
can use seconds instead of days.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # Slack. An empty token means "no real Slack": `make run` then starts the stand-in.
    slack_bot_token: str = ""
    slack_signing_secret: str = "parley-dev-signing-secret"
    slack_api_base_url: str = "https://slack.com/api/"

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "parley"
    # Workflows the worker keeps in memory (the SDK's default); beyond it, a change replays history.
    temporal_max_cached_workflows: int = Field(default=1000, ge=0)

    # Console store and links.
    database_url: str = "sqlite+aiosqlite:///.data/parley.db"
    console_base_url: str = "http://127.0.0.1:8000"
    parley_api_token: str = ""
    parley_destinations: str | None = Field(default=None, description="YAML/JSON seed file")

    # Larger alerts are refused at intake (413): Temporal caps a payload at a few MB, and an
    # alert it refused after we claimed its id would be stuck.
    max_alert_bytes: int = 256 * 1024

    # Alert lifecycle. Closed (Resolved/Invalid) alerts stay reopenable this long.
    alert_retention_seconds: float = 30 * 24 * 3600

    # Where the hourly Temporal Schedule fetches Tor's exit list (URL or file); empty = no refresh.
    tor_exit_list_source: str = ""
    # Two Show Alert Details clicks on one copy within this many seconds post once.
    details_dedupe_seconds: float = 10.0

    # Boomerang delays (reminder DM, escalation in the thread, expiry).
    boomerang_remind_after_seconds: float = 4 * 3600
    boomerang_escalate_after_seconds: float = 24 * 3600
    boomerang_expire_after_seconds: float = 7 * 24 * 3600


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
