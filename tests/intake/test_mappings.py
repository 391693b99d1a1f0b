"""Named JMESPath mappings (PARLEY_INTAKE_MAPPINGS): the shipped ones map their samples, a file
that cannot be used is refused with a message naming the fix, and a mapped alert that is not
valid names the mapping and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.app import create_app
from parley.domain import Severity, ip_values
from parley.intake.flatten import flatten
from parley.intake.mapping import MappedAlertInvalid, MappingError, load_mappings, parse_mappings
from parley.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "examples" / "intake-mappings.yaml"


def _sample(name: str) -> dict:
    return json.loads((ROOT / "examples" / "intake" / name).read_text())


def test_shipped_elastic_mapping_maps_its_sample() -> None:
    alert = load_mappings(str(MAPPINGS))["elastic"].to_alert(_sample("elastic-security.json"))
    assert alert.id == "elastic-4f1d9c2a7b3e5f60819a2b3c4d5e6f70"
    # The alert's own severity (an override), not the rule's default "medium".
    assert alert.severity is Severity.HIGH
    assert alert.rule_id == "d0f7a1e2-5b1c-4c2e-9a7e-3f1b2c4d5e6f"
    assert alert.created_at == datetime(2026, 11, 30, 8, 15, 1, 902000, tzinfo=UTC)
    assert alert.event_count == 3  # the alert and its 2 suppressed documents
    assert ("source.ip", "198.51.100.23") in ip_values(alert.summary_attributes)
    assert alert.source == "Elastic Security"
    assert alert.source_url and alert.source_url.startswith("https://kibana.example.com/")
    assert alert.tags == ["Domain: Endpoint", "Tactic: Credential Access"]
    assert alert.raw == _sample("elastic-security.json")


def test_shipped_splunk_mapping_maps_its_sample() -> None:
    alert = load_mappings(str(MAPPINGS))["splunk"].to_alert(_sample("splunk.json"))
    assert alert.id.startswith("splunk-scheduler__admin__search__")
    assert (alert.title, alert.rule_id) == ("Brute force then success", "Brute force then success")
    assert alert.severity is Severity.HIGH
    assert alert.created_at == datetime(2026, 11, 30, 8, 14, 40, tzinfo=UTC)  # epoch string
    assert alert.event_count == 14
    assert ("src_ip", "203.0.113.77") in ip_values(alert.summary_attributes)
    assert alert.source == "Splunk"


def test_splunk_without_a_severity_gets_the_mappings_default() -> None:
    payload = _sample("splunk.json")
    del payload["result"]["severity"]
    alert = load_mappings(str(MAPPINGS))["splunk"].to_alert(payload)
    assert alert.severity is Severity.MEDIUM


def test_invalid_mapped_alert_names_the_mapping_and_the_fields() -> None:
    mapping = load_mappings(str(MAPPINGS))["splunk"]
    payload = _sample("splunk.json")
    del payload["result"]["_time"]
    payload["result"]["severity"] = "apocalyptic"
    with pytest.raises(MappedAlertInvalid) as caught:
        mapping.to_alert(payload)
    err = caught.value
    assert err.mapping == "splunk"
    fields = dict(err.problems)
    assert set(fields) == {"created_at", "severity"}
    assert "`result._time` found nothing" in fields["created_at"]
    assert "unknown severity 'apocalyptic'" in fields["severity"]
    assert "mapping 'splunk'" in str(err)


@pytest.mark.parametrize("count", ["inf", "-inf", "nan", "1e400", "many"])
def test_a_count_that_is_no_whole_number_is_named(count: str) -> None:
    """Hypothesis found "inf" answering 500 (int(float("inf")) overflows)."""
    payload = _sample("splunk.json")
    payload["result"]["count"] = count
    with pytest.raises(MappedAlertInvalid) as caught:
        load_mappings(str(MAPPINGS))["splunk"].to_alert(payload)
    assert "event_count" in dict(caught.value.problems)


def test_a_value_alertin_refuses_is_named_too() -> None:
    mapping = parse_mappings(
        "mappings:\n  m:\n    source: S\n    default_severity: Low\n    fields:\n"
        "      {id: a, title: t, rule_id: r, created_at: c}\n"
    )["m"]
    with pytest.raises(MappedAlertInvalid) as caught:
        mapping.to_alert({"a": "has spaces!", "t": "x", "r": "y", "c": "2026-11-30T07:00:00Z"})
    assert [f for f, _ in caught.value.problems] == ["id"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mappings: [", "is not valid YAML"),
        ("mapping: {}", "mappings: Field required"),
        (
            "mappings:\n  x:\n    source: S\n    fields: {id: a, title: b, rule_id: c}\n",
            "mapping 'x': required field(s) not mapped: created_at, severity",
        ),
        (
            "mappings:\n  x:\n    source: S\n    default_severity: Low\n"
            "    fields: {id: a, title: b, rule_id: c, created_at: 'd[', colour: e}\n",
            "mapping 'x': unknown field(s) colour",
        ),
        (
            "mappings:\n  x:\n    source: S\n    default_severity: Low\n"
            "    fields: {id: a, title: b, rule_id: c, created_at: 'd['}\n",
            "mapping 'x', field 'created_at': `d[` is not JMESPath",
        ),
        (
            "mappings:\n  status:\n    source: S\n    default_severity: Low\n"
            "    fields: {id: a, title: b, rule_id: c, created_at: d}\n",
            "mapping 'status': name must match",
        ),
        (
            "mappings:\n  x:\n    source: S\n    severities: {sev1: Catastrophic}\n"
            "    fields: {id: a, title: b, rule_id: c, created_at: d, severity: e}\n",
            "mappings.x.severities.sev1",
        ),
    ],
)
def test_broken_mappings_file_is_refused_with_a_clear_message(text: str, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mappings(text, origin="mappings.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("mappings.yaml")


def test_broken_mappings_file_stops_the_api_from_starting(tmp_path: Path) -> None:
    broken = tmp_path / "m.yaml"
    broken.write_text("mappings:\n  x:\n    source: S\n    fields: {id: '['}\n")
    settings = Settings(parley_insecure_dev=True, parley_intake_mappings=str(broken))
    with pytest.raises(MappingError, match=r"PARLEY_INTAKE_MAPPINGS=.*m.yaml: mapping 'x'"):
        create_app(settings)
    missing = Settings(parley_insecure_dev=True, parley_intake_mappings=str(tmp_path / "no"))
    with pytest.raises(MappingError, match="cannot read it"):
        create_app(missing)
    # The shipped file starts.
    app = create_app(Settings(parley_insecure_dev=True, parley_intake_mappings=str(MAPPINGS)))
    assert sorted(app.state.mappings) == ["elastic", "splunk"]


def test_flatten_keeps_every_value_of_a_field_under_one_dotted_name() -> None:
    data = {
        "src": {"ip": "198.51.100.7", "port": 443},
        "ips": ["192.0.2.1", "192.0.2.1", "192.0.2.2"],
        "hits": [{"ip": "203.0.113.9"}, {"ip": "203.0.113.10", "ok": True}],
        "empty": None,
        "blank": " ",
    }
    assert flatten(data) == {
        "src.ip": ["198.51.100.7"],
        "src.port": ["443"],
        "ips": ["192.0.2.1", "192.0.2.2"],
        "hits.ip": ["203.0.113.9", "203.0.113.10"],
        "hits.ok": ["true"],
    }
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    node["ip"] = "192.0.2.3"
    assert flatten(deep) == {}  # bounded depth, no recursion error


def test_a_path_secret_comes_from_the_environment_and_must_be_long(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = (
        "mappings:\n  s:\n    source: S\n    default_severity: Low\n"
        "    path_secret_env: PARLEY_TEST_PATH_SECRET\n"
        "    fields: {id: a, title: b, rule_id: c, created_at: d}\n"
    )
    monkeypatch.delenv("PARLEY_TEST_PATH_SECRET", raising=False)
    assert parse_mappings(text)["s"].path_secret is None  # unset: the secret URL is off
    monkeypatch.setenv("PARLEY_TEST_PATH_SECRET", "short")
    with pytest.raises(MappingError, match=r"PARLEY_TEST_PATH_SECRET .* shorter than 24"):
        parse_mappings(text)
    monkeypatch.setenv("PARLEY_TEST_PATH_SECRET", "s" * 30)
    mapping = parse_mappings(text)["s"]
    assert mapping.path_secret == "s" * 30 and "s" * 30 not in repr(mapping)
