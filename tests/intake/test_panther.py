"""Panther's Custom Webhook payload, as its documentation gives it, into Parley's alert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from parley.domain import Severity, ip_values
from parley.intake.panther import PantherAlert, alert_id, to_alert

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "intake" / "panther.json"


def _payload(**changes: object) -> dict:
    payload = json.loads(SAMPLE.read_text())
    payload.update(changes)
    return payload


def _alert(payload: dict):  # type: ignore[no-untyped-def]
    return to_alert(PantherAlert.model_validate(payload), payload)


def test_documented_fields_map_to_the_alert() -> None:
    payload = _payload(futureField={"added": "later"})
    alert = _alert(payload)
    assert alert.id == payload["alertId"]
    assert (alert.rule_id, alert.rule_name) == ("Okta.SignIn.NewCountry", payload["name"])
    assert alert.severity is Severity.HIGH
    assert alert.description == payload["description"] and alert.tags == ["Okta", "Initial Access"]
    assert alert.source == "Panther" and alert.source_url == payload["link"]
    # 9 fractional digits (AWSDateTime) are read, to the microsecond.
    assert alert.created_at.microsecond == 123456
    assert alert.summary_attributes["client.ip"] == ["198.51.100.23"]
    assert ip_values(alert.summary_attributes) == [("client.ip", "198.51.100.23")]
    assert alert.raw == payload and alert.raw["futureField"] == {"added": "later"}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("INFO", Severity.INFO), ("LOW", Severity.LOW), ("MEDIUM", Severity.MEDIUM),
     ("CRITICAL", Severity.CRITICAL), ("high", Severity.HIGH)],
)  # fmt: skip
def test_severities(severity: str, expected: Severity) -> None:
    assert _alert(_payload(severity=severity)).severity is expected


def test_policy_without_alert_id_gets_a_stable_id() -> None:
    one = PantherAlert.model_validate(_payload(alertId=None, type="POLICY"))
    again = PantherAlert.model_validate(_payload(alertId=None, type="POLICY"))
    other = PantherAlert.model_validate(_payload(alertId=None, createdAt="2026-12-01T00:00:00Z"))
    assert alert_id(one) == alert_id(again) != alert_id(other)
    assert alert_id(one).startswith("panther-")


def test_error_types_without_context_or_optional_fields() -> None:
    payload = {
        "id": "Okta.SignIn.NewCountry",
        "createdAt": "2026-11-30T09:14:07+02:00",
        "severity": "INFO",
        "type": "RULE_ERROR",
        "title": "New rule error: Okta.SignIn.NewCountry",
        "alertId": "0123456789abcdef0123456789abcdef",
        "alertContext": {},
        "link": "not a url",
        "name": None,
        "tags": [],
    }
    alert = _alert(payload)
    assert alert.summary_attributes == {} and alert.source_url is None and alert.rule_name == ""


@pytest.mark.parametrize(
    ("drop", "change", "where"),
    [
        ("createdAt", {}, "createdAt"),
        ("id", {}, "id"),
        ("title", {}, "title"),
        (None, {"severity": "SEVERE"}, "severity"),
        (None, {"createdAt": "2026-11-30T09:14:07"}, "createdAt"),  # no offset: not AWSDateTime
    ],
)
def test_invalid_payloads_name_the_field(drop: str | None, change: dict, where: str) -> None:
    payload = _payload(**change)
    if drop:
        del payload[drop]
    with pytest.raises(ValidationError) as caught:
        PantherAlert.model_validate(payload)
    assert [e["loc"][0] for e in caught.value.errors()] == [where]
