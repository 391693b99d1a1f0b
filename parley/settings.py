"""Parley's configuration, read from environment variables.

Every variable is listed in the README's Configuration table (a test keeps the two in step), so
anyone can point the service at real infrastructure. Every duration is configurable so that tests
can use seconds instead of days.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger("parley.settings")

# Public development defaults: anyone can read them here, so they are refused outside a local
# stack (see check_production_safety).
DEV_SIGNING_SECRET = "parley-dev-signing-secret"
DEV_SECRET_KEY = "parley-dev-secret-key"
MIN_SECRET_KEY_CHARS = 32
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # Slack. An empty token means "no real Slack": `make run` then starts the stand-in.
    slack_bot_token: str = ""
    slack_signing_secret: str = DEV_SIGNING_SECRET
    slack_api_base_url: str = "https://slack.com/api/"
    # The Slack app and workspace Parley is installed in (A…, T…). When set, a signed interaction
    # whose api_app_id or team.id differs is refused, as Slack recommends.
    slack_app_id: str = ""
    slack_team_id: str = ""

    # Pacing of posts before Slack refuses them (about 1 a second per channel, short bursts; a few
    # hundred a minute per workspace), shared by every worker through the store. 0 turns it off.
    slack_channel_posts_per_second: float = 1.0
    slack_channel_post_burst: int = 2
    slack_workspace_posts_per_second: float = 4.0
    slack_workspace_post_burst: int = 20
    # HTTP timeout of one Slack Web API call. After a post times out Parley waits as long again
    # before looking for it (Slack may still be working on it). At most 15: half the Slack
    # activities' 30 s start_to_close, so an attempt can see a post through.
    slack_timeout_seconds: float = Field(default=15.0, gt=0)

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "parley"
    # Workflows the worker keeps in memory (the SDK's default); beyond it, a change replays history.
    temporal_max_cached_workflows: int = Field(default=1000, ge=0)

    # Console store and links.
    database_url: str = "sqlite+aiosqlite:///.data/parley.db"
    # How long the API waits for the database (a lock, a connection) before answering 503.
    database_timeout_seconds: float = 2.0
    console_base_url: str = "http://127.0.0.1:8000"
    parley_api_token: str = ""
    # Server key that signs modals' private_metadata (HMAC via itsdangerous): a view_submission
    # must carry what Parley minted. Slack never sees it; rotating it only voids open modals.
    parley_secret_key: str = DEV_SECRET_KEY
    # Accept the public dev defaults and an empty PARLEY_API_TOKEN. For a local stack only:
    # `make run` sets it when it runs the Slack stand-in.
    parley_insecure_dev: bool = False
    parley_destinations: str | None = Field(default=None, description="YAML/JSON seed file")

    # Larger alerts are refused at intake (413): Temporal caps a payload at a few MB, and an
    # alert it refused after we claimed its id would be stuck.
    max_alert_bytes: int = 256 * 1024

    # The outbox relay (api/outbox.py): how often it looks for queued items, and the longest
    # pause between tries while Temporal is away (so the longest wait once it is back).
    outbox_poll_seconds: float = 1.0
    outbox_max_backoff_seconds: float = 2.0

    # Alert lifecycle. Closed (Resolved/Invalid) alerts stay reopenable this long.
    alert_retention_seconds: float = 30 * 24 * 3600

    # Storms: past this many alerts of one rule within the window, a channel gets one digest
    # message for the rule instead of a post per alert (0 turns storms off). A storm ends after a
    # quiet period as long as the window.
    parley_storm_threshold: int = Field(default=20, ge=0)
    parley_storm_window_seconds: float = Field(default=600.0, gt=0)

    # Where the hourly Temporal Schedule fetches Tor's exit list (URL or file); empty = no refresh.
    tor_exit_list_source: str = ""
    # Two Show Alert Details clicks on one copy within this many seconds post once.
    details_dedupe_seconds: float = 10.0

    # Boomerang delays (reminder DM, escalation in the thread, expiry).
    boomerang_remind_after_seconds: float = 4 * 3600
    boomerang_escalate_after_seconds: float = 24 * 3600
    boomerang_expire_after_seconds: float = 7 * 24 * 3600

    # Issue 11 (intake): named JMESPath mappings served at POST /alerts/in/<name> (a YAML file;
    # one that cannot be used stops start-up), and how often at most an alert that grows gets a
    # "N more events (M in all)" line in its threads.
    parley_intake_mappings: str | None = Field(default=None, description="YAML mappings file")
    alert_growth_line_seconds: float = Field(default=60.0, gt=0)

    # Issue 13: Socket Mode. An app-level token (xapp-…, scope connections:write) makes the API
    # receive interactions and events over Slack's WebSocket instead of its request URLs.
    slack_app_token: str = ""

    # Issue 14: console sign-in (OpenID Connect: Sign in with Slack, or any OIDC provider) and
    # roles. An empty discovery URL turns sign-in off: the console then takes PARLEY_API_TOKEN.
    oidc_discovery_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid email profile"
    # Sessions (signed cookie, HttpOnly, SameSite=Lax, Secure when CONSOLE_BASE_URL is https).
    console_session_seconds: int = Field(default=8 * 3600, gt=0)
    # Roles by Slack user id, or by a Slack user group (usergroups.users.list, cached).
    console_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    console_analysts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    console_admin_group: str = ""
    console_analyst_group: str = ""
    console_role_cache_seconds: float = 300.0
    # The role of anyone else who signs in: viewer, analyst, admin, or none (refused).
    console_default_role: str = "viewer"
    # Destinations (by name) whose Slack clicks follow these roles; empty = anyone may act.
    slack_roles_destinations: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("console_default_role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value.strip().lower() not in ("viewer", "analyst", "admin", "none"):
            raise ValueError("must be viewer, analyst, admin or none")
        return value.strip().lower()

    @field_validator(
        "console_admins", "console_analysts", "slack_roles_destinations", mode="before"
    )
    @classmethod
    def _user_ids(cls, value: object) -> object:
        """A JSON list, or values separated by commas: `U0ALICE,U0BOB`."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    # Issue 12: deployment and operations.
    # At start-up the API and the worker bring the store's schema to head under a lock (a
    # PostgreSQL advisory lock, an immediate transaction on SQLite). False: they only wait, up
    # to PARLEY_SCHEMA_WAIT_SECONDS, for a separate migration job (`python -m parley.store
    # migrate`) to do it; use that when the service's database user may not change the schema.
    parley_migrate_on_start: bool = True
    parley_schema_wait_seconds: float = Field(default=120.0, ge=0)
    # Logs: "text" for people, "json" for a log pipeline (one object per line, with alert_id and
    # workflow_id when the line is about an alert).
    parley_log_format: Literal["text", "json"] = "text"
    parley_log_level: str = "INFO"
    # The worker's own HTTP port (host:port; empty = none): /healthz, /readyz and Parley's
    # Prometheus counters at /metrics.
    parley_worker_http_address: str = ""
    # The Temporal SDK's Prometheus exporter in the worker (host:port; empty = off).
    temporal_metrics_address: str = ""
    # An existing cluster or Temporal Cloud: an API key (turns TLS on), or mTLS with a client
    # certificate and key (PEM files); a private CA and the server name to check.
    temporal_api_key: str = ""
    temporal_tls: bool = False
    temporal_tls_client_cert: str = ""
    temporal_tls_client_key: str = ""
    temporal_tls_server_ca: str = ""
    temporal_tls_server_name: str = ""
    # OpenTelemetry tracing through temporalio.contrib.opentelemetry (needs the `otel` extra);
    # the exporter reads the standard OTEL_EXPORTER_OTLP_* variables.
    parley_otel_enabled: bool = False


class UnsafeSettings(RuntimeError):
    """The settings would run Parley with public secrets or without authentication."""


def production_problems(settings: Settings) -> list[str]:
    """What makes these settings unsafe outside a local stack, one line per setting to fix."""
    problems: list[str] = []
    if settings.slack_signing_secret in ("", DEV_SIGNING_SECRET):
        problems.append(
            "SLACK_SIGNING_SECRET is the public development default, so anyone could forge "
            "Slack clicks: set it to your Slack app's Signing Secret (Basic Information)."
        )
    if not settings.parley_api_token.strip():
        problems.append(
            "PARLEY_API_TOKEN is empty, which turns off authentication of POST /alerts, the "
            "console and its API: set it to a long random token."
        )
    key = settings.parley_secret_key
    if key == DEV_SECRET_KEY or len(key.strip()) < MIN_SECRET_KEY_CHARS:
        problems.append(
            "PARLEY_SECRET_KEY (signs the Slack modals' private_metadata) is the public "
            f"development default or shorter than {MIN_SECRET_KEY_CHARS} characters: set it to "
            "a random value, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    signs_in = bool(settings.oidc_discovery_url and settings.oidc_client_id)
    if signs_in and not settings.slack_team_id and settings.console_default_role != "none":
        problems.append(
            "Console sign-in (OIDC_DISCOVERY_URL) is on with SLACK_TEAM_ID empty and "
            f"CONSOLE_DEFAULT_ROLE={settings.console_default_role}: anyone the provider signs in "
            "(any Slack workspace) could read every alert. Set SLACK_TEAM_ID to your workspace, "
            "or CONSOLE_DEFAULT_ROLE=none and list people in CONSOLE_ADMINS/CONSOLE_ANALYSTS."
        )
    return problems


def check_production_safety(settings: Settings) -> None:
    """Refuse to start the API or the worker with public secrets or without a token.

    Raises UnsafeSettings naming every setting to fix, unless PARLEY_INSECURE_DEV is set (a
    local stack: `make run` with the stand-in)."""
    problems = production_problems(settings)
    if settings.parley_insecure_dev:
        if problems:
            # Expected on a local stack whose Slack is the stand-in on loopback; anywhere else
            # it is worth a warning.
            local = urlsplit(settings.slack_api_base_url).hostname in LOOPBACK_HOSTS
            log.log(
                logging.INFO if local else logging.WARNING,
                "PARLEY_INSECURE_DEV is set: running with development defaults",
            )
        return
    if problems:
        raise UnsafeSettings(
            "Parley refuses to start with unsafe settings:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFor a local development stack only, PARLEY_INSECURE_DEV=1 accepts them."
        )
    if not (settings.slack_app_id and settings.slack_team_id):
        log.warning(
            "SLACK_APP_ID or SLACK_TEAM_ID is not set: interactions are checked by signature only"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
