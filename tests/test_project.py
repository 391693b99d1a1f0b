"""The project's own promises: config names, compose file and README agree with the code."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from parley.settings import (
    DEV_SECRET_KEY,
    DEV_SIGNING_SECRET,
    Settings,
    check_production_safety,
)
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_ENV = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_BASE_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TASK_QUEUE",
    "DATABASE_URL",
    "CONSOLE_BASE_URL",
    "PARLEY_API_TOKEN",
    "PARLEY_SECRET_KEY",
    "SLACK_APP_ID",
    "SLACK_TEAM_ID",
]


def test_settings_read_the_documented_variable_names(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for i, name in enumerate(REQUIRED_ENV):
        monkeypatch.setenv(name, f"value-{i}")
    settings = Settings()
    for i, name in enumerate(REQUIRED_ENV):
        assert getattr(settings, name.lower()) == f"value-{i}", name


def test_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    names = REQUIRED_ENV + [field.upper() for field in Settings.model_fields]
    assert [name for name in names if f"`{name}`" not in readme] == []


def test_compose_registers_our_search_attributes_and_known_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    # The namespace job creates them on the cluster (docker-compose.yml, deploy/temporal).
    pairs = services["temporal-namespace"]["environment"]["PARLEY_SEARCH_ATTRIBUTES"]
    registered = set(re.findall(r"(\w+)=Keyword", pairs))
    assert registered == {key.name for key in sa.ALL}
    fields = {name.upper() for name in Settings.model_fields}
    for role in ("worker", "api"):
        for name in services[role]["environment"]:
            assert name in fields, f"{role} sets {name}, which Settings does not read"


COMPOSE_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
COMPOSE_SECRETS = {"SLACK_SIGNING_SECRET", "PARLEY_API_TOKEN", "PARLEY_SECRET_KEY"}


def _interpolate(value: str, shell: dict[str, str]) -> tuple[str, set[str]]:
    """`value` as compose interpolates it from `shell`, and the variables compose would refuse
    to start without (`${X:?msg}` unset or empty, `${X?msg}` unset)."""
    required: set[str] = set()

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        value = shell.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if unset and op.endswith("?"):
            required.add(name)
            return ""
        if unset and op.endswith("-"):
            return arg
        return value or ""

    return COMPOSE_VAR.sub(one, value), required


def test_compose_defaults_are_safe(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Compose refuses to start without the secrets, has no default that the services' own
    start-up check would refuse once they are set, and never turns on PARLEY_INSECURE_DEV."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PARLEY_")):
            monkeypatch.delenv(name)
    text = (ROOT / "docker-compose.yml").read_text()
    assert DEV_SIGNING_SECRET not in text and DEV_SECRET_KEY not in text
    services = yaml.safe_load(text)["services"]
    standin_args = " ".join(services["slack-standin"]["command"])
    assert _interpolate(standin_args, {})[1] == {"SLACK_SIGNING_SECRET"}
    chosen = {
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "PARLEY_API_TOKEN": "operator-chosen-bearer-token",
        "PARLEY_SECRET_KEY": "operator-chosen-secret-key-of-32-chars+",
    }
    for role in ("worker", "api"):
        env = {name: str(value) for name, value in services[role]["environment"].items()}
        required = set().union(*(_interpolate(v, {})[1] for v in env.values()))
        assert required >= COMPOSE_SECRETS, f"{role}: {COMPOSE_SECRETS - required} has a default"
        resolved = {name.lower(): _interpolate(v, chosen)[0] for name, v in env.items()}
        settings = Settings(**resolved)
        assert not settings.parley_insecure_dev
        check_production_safety(settings)


def test_no_package_registry_host_is_written_in_the_repo() -> None:
    hosts = ("pypi" + ".org", "files.python" + "hosted.org", "registry.npm" + "js.org")
    for path in ROOT.rglob("*"):
        if any(part in {".venv", ".git", ".data", "__pycache__"} for part in path.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".yml", ".yaml", ".txt"}:
            text = path.read_text(errors="ignore")
            for host in hosts:
                assert host not in text, f"{path} names {host}"


def test_slack_manifest_grants_what_the_code_calls() -> None:
    manifest = yaml.safe_load((ROOT / "examples" / "slack-app-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    code = "\n".join(p.read_text() for p in (ROOT / "activities").glob("*.py"))
    code += "\n".join(p.read_text() for p in (ROOT / "api").glob("*.py"))
    needs = {
        "chat_postMessage": {"chat:write"},
        "chat_update": {"chat:write"},
        "chat_postEphemeral": {"chat:write"},
        "conversations_open": {"im:write"},
        "conversations_history": {"channels:history", "groups:history", "im:history"},
        "conversations_replies": {"channels:history", "groups:history", "im:history"},
        "users_info": {"users:read"},
        "files_upload_v2": {"files:write"},
    }
    for method, wanted in needs.items():
        if f'"{method}"' in code or f".{method}(" in code:
            assert wanted <= scopes, f"{method} needs {wanted - scopes}"
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/interactions")
    # Events: the subscription URL is Parley's route, and every handled event is subscribed.
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/slack/events")
    assert '"/slack/events"' in code
    handled = {"message.im": '"message"', "app_home_opened": '"app_home_opened"'}
    for event, literal in handled.items():
        assert literal in code and event in events["bot_events"], event
    if "message.im" in events["bot_events"]:
        assert "im:history" in scopes
        assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    if "views_publish" in code:
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_tests_cannot_leave_loopback() -> None:
    import socket

    import pytest

    from tests.conftest import _violations

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    assert _violations.pop().endswith("'192.0.2.1'")  # seen, then forgiven for this probe
