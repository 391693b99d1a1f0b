"""docker-compose.yml checked by structure (this machine has no Docker engine to run it): the
services a production Temporal-on-PostgreSQL layout needs, their images, start order by health
and completion (never mere start), healthchecks on /readyz, and every Parley environment name
matching a Settings field."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from parley.settings import Settings
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parents[2]
PARLEY = ("migrate", "worker", "api")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def depends(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    assert isinstance(deps, dict), f"depends_on must name conditions, not a list: {deps}"
    return {name: spec["condition"] for name, spec in deps.items()}


def test_temporal_runs_on_postgresql_as_temporals_own_compose_lays_it_out(
    compose: dict[str, Any],
) -> None:
    s = services(compose)
    assert s["temporal-postgresql"]["image"].startswith("postgres:")
    assert s["temporal-schema"]["image"].startswith("temporalio/admin-tools:")
    assert s["temporal-namespace"]["image"].startswith("temporalio/admin-tools:")
    assert s["temporal"]["image"].startswith("temporalio/server:")
    assert s["temporal-ui"]["image"].startswith("temporalio/ui:")
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "start-dev" not in text and "auto-setup" not in text  # dev server / deprecated image
    assert s["temporal"]["environment"]["DB"] == "postgres12"
    assert s["temporal"]["environment"]["POSTGRES_SEEDS"] == "temporal-postgresql"
    # The one-shot jobs run scripts shipped in deploy/temporal, mounted read-only.
    for job in ("temporal-schema", "temporal-namespace"):
        assert "./deploy/temporal:/parley-deploy:ro" in s[job]["volumes"]
        script = ROOT / "deploy" / "temporal" / Path(s[job]["command"][-1]).name
        assert script.exists() and os.access(script, os.X_OK), script
    # Parley's search attributes, exactly those the workflows set.
    wanted = {f"{k.name}=Keyword" for k in sa.ALL}
    assert set(s["temporal-namespace"]["environment"]["PARLEY_SEARCH_ATTRIBUTES"].split()) == wanted


def test_start_order_waits_for_health_and_completion(compose: dict[str, Any]) -> None:
    s = services(compose)
    assert depends(s["temporal-schema"]) == {"temporal-postgresql": "service_healthy"}
    assert depends(s["temporal"]) == {"temporal-schema": "service_completed_successfully"}
    assert depends(s["temporal-namespace"]) == {"temporal": "service_healthy"}
    assert depends(s["temporal-ui"]) == {"temporal": "service_healthy"}
    assert depends(s["migrate"]) == {"postgres": "service_healthy"}
    for name in ("worker", "api"):
        assert depends(s[name]) == {
            "migrate": "service_completed_successfully",
            "temporal-namespace": "service_completed_successfully",
        }, name
    # Nothing waits on a service merely having started (the old api → worker race).
    for name, service in s.items():
        assert "service_started" not in depends(service).values(), name


def test_healthchecks_probe_readiness(compose: dict[str, Any]) -> None:
    s = services(compose)
    for name in ("temporal-postgresql", "postgres", "temporal", "worker", "api"):
        assert s[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    api_probe = " ".join(s["api"]["healthcheck"]["test"])
    assert "127.0.0.1:8000/readyz" in api_probe and "--port" in s["api"]["command"]
    assert s["api"]["command"][s["api"]["command"].index("--port") + 1] == "8000"
    worker_port = s["worker"]["environment"]["PARLEY_WORKER_HTTP_ADDRESS"].rsplit(":", 1)[1]
    assert f"127.0.0.1:{worker_port}/readyz" in " ".join(s["worker"]["healthcheck"]["test"])
    # Scaling workers: no published host ports to collide.
    assert "ports" not in s["worker"]


def test_parley_services_take_only_settings_env_names(compose: dict[str, Any]) -> None:
    s = services(compose)
    fields = {name.upper() for name in Settings.model_fields}
    for name in PARLEY:
        env = s[name]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{name}: {unknown} are not Settings fields"
        # The schema belongs to the migrate job; the services only wait for it.
        assert env["PARLEY_MIGRATE_ON_START"] == "false"
        for secret in ("SLACK_SIGNING_SECRET", "PARLEY_API_TOKEN", "PARLEY_SECRET_KEY"):
            assert re.search(r"\$\{" + secret + r":\?", env[secret]), f"{secret} has a default"
        assert "PARLEY_INSECURE_DEV" not in env
    assert s["migrate"]["command"] == ["python", "-m", "parley.store", "migrate"]
    assert "TEMPORAL_METRICS_ADDRESS" in s["worker"]["environment"]


def test_the_image_holds_what_the_commands_run() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for part in ("parley", "api", "workflows", "activities", "tools", "worker.py", "examples"):
        assert re.search(rf"^COPY .*\b{re.escape(part)}\b", dockerfile, re.M), part
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "tests/ops/test_compose.py" in readme and "no Docker engine" in readme
