"""Destinations: CRUD, seeding from YAML/JSON, matching alerts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from parley.domain import AlertIn, DestinationIn, Severity
from parley.store import repo
from parley.store.db import Database

WriteFile = Callable[[str, str], str]


async def test_crud(db: Database) -> None:
    assert await repo.list_destinations(db) == []
    soc = await repo.create_destination(
        db, DestinationIn(name="soc", channel="C0SOC", min_severity=Severity.HIGH)
    )
    aws = await repo.create_destination(
        db, DestinationIn(name="aws", channel="C0AWS", log_types=["AWS.CloudTrail"])
    )
    assert soc.id and soc.id != aws.id
    assert await repo.list_destinations(db) == [aws, soc]  # by name
    with pytest.raises(repo.DestinationExists, match="soc"):
        await repo.create_destination(db, DestinationIn(name="soc", channel="C0OTHER"))
    assert await repo.delete_destination(db, soc.id) is True
    assert await repo.delete_destination(db, soc.id) is False
    assert [d.name for d in await repo.list_destinations(db)] == ["aws"]
    # The name is free again after deletion.
    again = await repo.create_destination(db, DestinationIn(name="soc", channel="C0SOC"))
    assert again.id != soc.id and again.min_severity is None


YAML_SEED = """
destinations:
  - name: soc
    channel: C0SOC
    min_severity: High
  - name: cloud
    channel: C0CLOUD
    rule_ids: [aws.root-login, aws.iam-change]
    log_types: [AWS.CloudTrail]
"""


async def test_seed_yaml_idempotent(db: Database, tmp_file: WriteFile) -> None:
    path = tmp_file("dest.yaml", YAML_SEED)
    assert await repo.seed_destinations(db, path) == 2
    assert await repo.seed_destinations(db, path) == 0  # restart: nothing new
    by_name = {d.name: d for d in await repo.list_destinations(db)}
    assert set(by_name) == {"soc", "cloud"}
    assert by_name["soc"].min_severity is Severity.HIGH
    assert by_name["cloud"].rule_ids == ["aws.root-login", "aws.iam-change"]
    assert by_name["cloud"].log_types == ["AWS.CloudTrail"]


async def test_seed_json_list_keeps_existing(db: Database, tmp_file: WriteFile) -> None:
    existing = await repo.create_destination(db, DestinationIn(name="soc", channel="C0EDITED"))
    data = [{"name": "soc", "channel": "C0SOC"}, {"name": "web", "channel": "G0WEB"}]
    assert await repo.seed_destinations(db, tmp_file("d.json", json.dumps(data))) == 1
    by_name = {d.name: d for d in await repo.list_destinations(db)}
    assert by_name["soc"] == existing  # console edits survive a re-seed
    assert by_name["web"].channel == "G0WEB"


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bad.yaml", "destinations: [name: x", "not valid JSON/YAML"),
        ("bad.json", "{'destinations': []}", "not valid JSON/YAML"),
        ("scalar.yaml", "just a string", "expected a list"),
        ("channel.yaml", "- {name: x, channel: '#general'}", r"destinations\[0\]\.channel"),
        ("missing.json", '[{"name": "x"}]', r"destinations\[0\]\.channel: Field required"),
        ("extra.yaml", "- {name: x, channel: C0X, colour: red}", "colour"),
        ("dupes.yaml", "- {name: x, channel: C0X}\n- {name: x, channel: C0Y}", "duplicate"),
    ],
)
async def test_seed_bad_file(
    db: Database, tmp_file: WriteFile, name: str, text: str, problem: str
) -> None:
    path = tmp_file(name, text)
    with pytest.raises(ValueError, match=problem) as info:
        await repo.seed_destinations(db, path)
    assert path in str(info.value)
    assert await repo.list_destinations(db) == []  # nothing half-seeded


async def test_seed_missing_file(db: Database, tmp_file: WriteFile) -> None:
    path = tmp_file("x.yaml", "[]") + ".absent"
    with pytest.raises(ValueError, match="cannot read"):
        await repo.seed_destinations(db, path)


async def test_matching(db: Database, make_alert: Callable[..., AlertIn]) -> None:
    for d in [
        DestinationIn(name="all", channel="C0ALL"),
        DestinationIn(name="high", channel="C0HIGH", min_severity=Severity.HIGH),
        DestinationIn(name="rule", channel="C0RULE", rule_ids=["rule.a", "rule.b"]),
        DestinationIn(name="logs", channel="C0LOGS", log_types=["Okta.SystemLog"]),
        DestinationIn(
            name="both", channel="C0BOTH", rule_ids=["rule.a"], log_types=["Okta.SystemLog"]
        ),
    ]:
        await repo.create_destination(db, d)

    async def names(**kw: object) -> list[str]:
        return sorted(d.name for d in await repo.matching_destinations(db, make_alert(**kw)))

    low = {"severity": Severity.LOW, "rule_id": "rule.x", "log_type": "AWS.CloudTrail"}
    assert await names(**low) == ["all"]
    assert await names(**(low | {"severity": Severity.HIGH})) == ["all", "high"]
    assert await names(**(low | {"severity": Severity.CRITICAL})) == ["all", "high"]
    assert await names(**(low | {"rule_id": "rule.b"})) == ["all", "rule"]
    assert await names(**(low | {"log_type": "Okta.SystemLog"})) == ["all", "logs"]
    assert await names(rule_id="rule.a", log_type="Okta.SystemLog", severity=Severity.INFO) == [
        "all",
        "both",
        "logs",
        "rule",
    ]
