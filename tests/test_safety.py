"""Start-up refuses public secrets and an open API outside a local stack, and says what to fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from parley.settings import (
    DEV_SECRET_KEY,
    DEV_SIGNING_SECRET,
    Settings,
    UnsafeSettings,
    check_production_safety,
)
from tools.devstack import standin_settings

ROOT = Path(__file__).resolve().parents[1]
REAL_TOKEN = "xoxb-1111111111-2222222222-realtokenvalue"
SAFE: dict[str, Any] = {
    "slack_bot_token": REAL_TOKEN,
    "slack_signing_secret": "8f14e45fceea167a5a36dedd4bea2543",
    "parley_api_token": "a-long-random-bearer-token-for-intake",
    "parley_secret_key": "k" * 40,
}
SETTING_OF = {
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "parley_api_token": "PARLEY_API_TOKEN",
    "parley_secret_key": "PARLEY_SECRET_KEY",
}


def _settings(**changes: Any) -> Settings:
    return Settings(**{**SAFE, **changes})


def test_app_refuses_the_dev_signing_secret_with_a_real_token() -> None:
    with pytest.raises(UnsafeSettings) as refused:
        create_app(_settings(slack_signing_secret=DEV_SIGNING_SECRET))
    message = str(refused.value)
    assert "SLACK_SIGNING_SECRET" in message and "PARLEY_INSECURE_DEV" in message
    assert "PARLEY_API_TOKEN" not in message and "PARLEY_SECRET_KEY" not in message


def test_the_default_settings_are_refused_naming_every_setting_to_fix() -> None:
    with pytest.raises(UnsafeSettings) as refused:
        create_app(Settings(slack_bot_token=REAL_TOKEN))
    for name in SETTING_OF.values():
        assert name in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slack_signing_secret", ""),
        ("parley_api_token", ""),
        ("parley_api_token", "   "),
        ("parley_secret_key", DEV_SECRET_KEY),
        ("parley_secret_key", "short-key"),
    ],
)
def test_each_unsafe_setting_is_named(field: str, value: str) -> None:
    with pytest.raises(UnsafeSettings, match=SETTING_OF[field]) as refused:
        check_production_safety(_settings(**{field: value}))
    others = set(SETTING_OF.values()) - {SETTING_OF[field]}
    assert not any(name in str(refused.value) for name in others)


def test_safe_settings_build_the_app() -> None:
    app = create_app(_settings())
    assert app.state.settings.parley_secret_key == SAFE["parley_secret_key"]


def test_insecure_dev_accepts_the_defaults_explicitly() -> None:
    check_production_safety(Settings(parley_insecure_dev=True))
    with pytest.raises(UnsafeSettings):
        check_production_safety(Settings(parley_insecure_dev=False))


def test_make_run_with_the_stand_in_passes_the_check_and_checks_app_and_team() -> None:
    """`make run` gives the worker and API this environment when it starts the stand-in."""
    env = {"SLACK_BOT_TOKEN": "xoxb-standin-token", **standin_settings({})}
    settings = Settings(**{k.lower(): v for k, v in env.items()})
    check_production_safety(settings)
    assert (settings.slack_app_id, settings.slack_team_id) == ("A0PARLEY", "T0PARLEY")


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "PARLEY_", "TEMPORAL_", "DATABASE_"))
    }
    env.update(
        SLACK_BOT_TOKEN=REAL_TOKEN,
        PARLEY_API_TOKEN=SAFE["parley_api_token"],
        PARLEY_SECRET_KEY=SAFE["parley_secret_key"],
        # Were the check missing, the process would get this far and fail differently.
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}",
        TEMPORAL_ADDRESS="127.0.0.1:1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{args} started instead of refusing: {exc.stderr!r}") from exc


def test_worker_refuses_to_start_with_the_dev_signing_secret(tmp_path: Path) -> None:
    done = _run([sys.executable, "worker.py"], _clean_env(tmp_path))
    assert done.returncode != 0
    assert "SLACK_SIGNING_SECRET is the public development default" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "parley.db").exists()  # refused before touching anything


def test_api_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _clean_env(tmp_path, SLACK_SIGNING_SECRET=SAFE["slack_signing_secret"])
    env.pop("PARLEY_API_TOKEN")
    uvicorn = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
    done = _run([*uvicorn, "--port", str(port)], env)
    assert done.returncode != 0
    assert "PARLEY_API_TOKEN is empty" in done.stderr, done.stderr
    assert "SLACK_SIGNING_SECRET" not in done.stderr
