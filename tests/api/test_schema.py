"""The OpenAPI schema is true: clients are generated from it.

Static checks on the schema itself, then Schemathesis against the real app on loopback (uvicorn,
real Temporal, SQLite and PostgreSQL), with the bearer token, a bounded number of examples per
operation: no 5xx, and every answer's status, content type and body as documented.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from parley.settings import Settings
from tests.api.harden_support import AUTH, settings_for
from tools.devstack import ApiServer
from tools.slack_standin import StandIn

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
BODY_ERRORS = {"400", "413", "415", "422"}
EXAMPLES = 25


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(SCHEMA_SETTINGS).openapi()


# Only the schema is read: no secrets are needed.
SCHEMA_SETTINGS = Settings(parley_api_token="t", parley_insecure_dev=True)


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def test_bearer_security_scheme_on_every_protected_route(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "PARLEY_API_TOKEN as a bearer token",
    }
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == "parley_session"
    for name, op in operations(openapi):
        if name == "GET /healthz":
            assert "security" not in op
            continue
        if name == "POST /alerts/in/{name}/{secret}":  # the mapping's secret is in the path
            assert "security" not in op and "401" in op["responses"]
            continue
        assert {"bearer": []} in op.get("security", []), name
        assert "401" in op["responses"], name
    html = {"GET /console", "GET /alerts/{alert_id}", "GET /storms", "GET /storms/{storm_id}"}
    assert {n for n, op in operations(openapi) if {"cookie": []} in op.get("security", [])} == html


def test_one_error_model_for_every_error(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorBody"]["required"]) == {"error", "detail"}
    for name, op in operations(openapi):
        for status, answer in op["responses"].items():
            if int(status) < 400:
                continue
            assert answer.get("description"), (name, status)
            json_body = answer.get("content", {}).get("application/json")
            if json_body is None:  # the HTML console's sign-in page
                assert name == "GET /console" and status == "401", (name, status)
                continue
            assert json_body["schema"] == ERROR_BODY, (name, status)


def test_every_status_a_route_sends_is_documented(openapi: dict[str, Any]) -> None:
    documented = {name: set(op["responses"]) for name, op in operations(openapi)}
    assert documented["POST /alerts"] == {"200", "201", "202", "401", "503"} | BODY_ERRORS
    for change in ("status", "assignee"):
        assert documented[f"POST /alerts/{{alert_id}}/{change}"] == (
            {"202", "401", "403", "404", "503"} | BODY_ERRORS
        )
    # 403: an intake-only API token.
    assert documented["POST /destinations"] == {"201", "401", "403", "409"} | BODY_ERRORS
    assert documented["DELETE /destinations/{destination_id}"] == {
        "204", "401", "403", "404", "422"
    }  # fmt: skip
    assert documented["GET /destinations"] == {"200", "401", "403", "422"}
    assert documented["POST /api-tokens"] == {"201", "401", "403"} | BODY_ERRORS
    assert documented["DELETE /api-tokens/{token_id}"] == {"204", "404"} | BODY_ERRORS | {
        "401",
        "403",
    }
    assert documented["GET /alerts/{alert_id}"] == {"200", "401", "404", "422"}
    assert documented["GET /alerts"] == {"200", "401", "422"}
    assert documented["GET /console"] == {"200", "401", "422"}
    detail = openapi["paths"]["/alerts/{alert_id}"]["get"]["responses"]
    for status in ("200", "401", "404"):
        assert set(detail[status]["content"]) == {"application/json", "text/html"}, status


# ---- Schemathesis against the running app ----------------------------------------------------


@pytest.fixture(scope="module")
def api_url(temporal_env: WorkflowEnvironment, backend_url: str, standin: StandIn) -> Iterator[str]:
    server = ApiServer(settings_for(temporal_env, backend_url, standin.base_url))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(api_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


# What "true" means here: no server error, and every answer as documented. (Schemathesis's
# input-side checks judge how strict the input schema is, which is another matter.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
]
# One test per operation, from the app's own schema (schemathesis's pytest plugin does the same
# but does not run on pytest 9). Bounded: a few seconds per operation.
OPERATIONS = [
    (path, method)
    for path, ops in create_app(SCHEMA_SETTINGS).openapi()["paths"].items()
    for method in ops
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_api_answers_as_its_schema_says(api: Any, path: str, method: str) -> None:
    operation = api[path][method]
    strategy = operation.as_strategy(GenerationMode.POSITIVE)
    if operation.iter_parameters() or operation.body:  # something to get wrong
        strategy = strategy | operation.as_strategy(GenerationMode.NEGATIVE)
    sent: list[int] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: Any) -> None:
        sent.append(case.call_and_validate(headers=AUTH, checks=CHECKS).status_code)

    run()
    assert sent, "no request was made"
