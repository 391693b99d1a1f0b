"""Named mappings from any source's JSON to Parley's alert, without code (issue 11).

A YAML file (`PARLEY_INTAKE_MAPPINGS`) names each mapping and gives, per Parley field, a JMESPath
expression over the source's payload (jmespath: the specification's reference implementation,
also what the AWS CLI uses, instead of a home-made path language). Python does only what
JMESPath cannot: severities matched by name, epoch times, nested objects flattened into summary
attributes. Each mapping is served at `POST /alerts/in/<name>`.

    mappings:
      elastic:
        source: Elastic Security     # its button: "View in Elastic Security"
        fields:
          id: "join('-', ['elastic', alert.uuid])"
          title: rule.name
          ...
        severities: {critical: Critical, high: High}   # optional, source value -> Parley's
        default_severity: Medium                        # optional, when the payload has none

A file that cannot be used stops start-up with a `MappingError` naming the file, the mapping and
the field; a payload a mapping turns into an invalid alert raises `MappedAlertInvalid` naming
the mapping and the fields (the API answers 422).
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jmespath
import yaml
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.domain import AlertIn, Severity
from parley.intake.flatten import flatten

# Parley fields a mapping may fill, and those an alert cannot do without.
FIELDS = (
    "id",
    "title",
    "severity",
    "rule_id",
    "rule_name",
    "log_type",
    "runbook",
    "created_at",
    "summary_attributes",
    "event_count",
    "first_event",
    "events",
    "description",
    "tags",
    "source_url",
)
REQUIRED = ("id", "title", "rule_id", "created_at")
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
# `/alerts/{id}/status` and `/alerts/{id}/assignee` are console routes.
RESERVED_NAMES = {"status", "assignee"}
MIN_PATH_SECRET = 24
log = logging.getLogger("parley.intake")
TEXT_LIMITS = {"title": 1000, "rule_name": 500, "runbook": 20_000, "description": 5000}


class MappingError(ValueError):
    """The mappings file cannot be used; the message says where and why."""


class MappedAlertInvalid(ValueError):
    """A payload the mapping turned into an invalid alert."""

    def __init__(self, mapping: str, problems: list[tuple[str, str]]) -> None:
        self.mapping = mapping
        self.problems = problems  # (Parley field, what is wrong)
        lines = "; ".join(f"{f}: {m}" for f, m in problems)
        super().__init__(f"mapping {mapping!r} produced an invalid alert: {lines}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=50)
    fields: dict[str, str]
    severities: dict[str, Severity] = Field(default_factory=dict)
    default_severity: Severity | None = None
    keep_raw: bool = True  # the payload as sent, for Show Alert Details
    # For senders that cannot set a header (Splunk's stock webhook): the environment variable
    # holding a secret that may stand in the URL instead, POST /alerts/in/<name>/<secret>.
    path_secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,99}$")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: dict[str, _Spec]


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str
    expressions: dict[str, ParsedResult]
    severities: dict[str, Severity] = field(default_factory=dict)
    default_severity: Severity | None = None
    keep_raw: bool = True
    # None: this mapping takes the bearer token only. Kept out of repr (logs, tracebacks).
    path_secret: str | None = field(default=None, repr=False)

    def to_alert(self, payload: Any) -> AlertIn:
        """The alert this payload maps to; raises MappedAlertInvalid."""
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for name, expr in self.expressions.items():
            try:
                found = expr.search(payload)
            except JMESPathError as exc:  # e.g. a function given the wrong type at run time
                problems.append((name, f"`{expr.expression}` failed: {exc}"))
                continue
            if found is None or found == "" or found == []:
                continue
            try:
                values[name] = self._normalise(name, found)
            except ValueError as exc:
                problems.append((name, f"{exc} (from `{expr.expression}`)"))
        if "severity" not in values and self.default_severity is not None:
            values["severity"] = self.default_severity
        for name in (*REQUIRED, "severity"):
            if name not in values and not any(p[0] == name for p in problems):
                how = self.expressions.get(name)
                where = f"`{how.expression}` found nothing" if how else "not mapped"
                problems.append((name, f"missing: {where}"))
        values["source"] = self.source
        if self.keep_raw and isinstance(payload, dict):
            values["raw"] = payload
        if not problems:
            try:
                return AlertIn.model_validate(values)
            except ValidationError as exc:
                for err in exc.errors(include_url=False, include_input=False):
                    loc = ".".join(str(p) for p in err["loc"]) or "alert"
                    problems.append((loc, err["msg"]))
        raise MappedAlertInvalid(self.name, problems)

    def _normalise(self, name: str, value: Any) -> Any:
        if name == "severity":
            return self._severity(value)
        if name == "created_at":
            return _when(value)
        if name == "summary_attributes":
            return flatten(value)
        if name == "tags":
            items = value if isinstance(value, list) else [value]
            return [str(t)[:100] for t in items if t is not None and not isinstance(t, dict)][:50]
        if name == "events":
            return (value if isinstance(value, list) else [value])[:100]
        if name == "event_count":
            return _count(value)
        if name == "first_event":
            return value
        if isinstance(value, bool | int | float):
            value = str(value)
        if isinstance(value, str) and name in TEXT_LIMITS:
            value = value[: TEXT_LIMITS[name]]
        return value

    def _severity(self, value: Any) -> Severity:
        key = str(value).strip().lower()
        if key in self.severities:
            return self.severities[key]
        for sev in Severity:
            if sev.value.lower() == key:
                return sev
        known = sorted({*self.severities, *(s.value.lower() for s in Severity)})
        raise ValueError(f"unknown severity {str(value)[:40]!r}; known: {', '.join(known)}")


def _when(value: Any) -> Any:
    """ISO 8601 text passes to pydantic; epoch seconds (or milliseconds) become UTC times."""
    number: float | None = None
    if isinstance(value, bool):
        raise ValueError("a time, not a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
    if number is None or not math.isfinite(number):
        raise ValueError("not a time")
    if number > 1e11:  # milliseconds (Kibana's, Splunk's are seconds)
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("epoch time out of range") from None


def _count(value: Any) -> int:
    try:
        count = int(float(value))
    except (TypeError, ValueError, OverflowError):  # OverflowError: "inf", 1e400
        raise ValueError(f"not a count: {str(value)[:40]!r}") from None
    if count < 0:
        raise ValueError("a count cannot be negative")
    return count


def parse_mappings(text: str, origin: str = "<mappings>") -> dict[str, Mapping]:
    """Mappings from YAML text; raises MappingError naming what to fix."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{origin} is not valid YAML: {exc}") from None
    try:
        spec = _File.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise MappingError(f"{origin} is not a mappings file:\n" + "\n".join(lines)) from None
    out: dict[str, Mapping] = {}
    for name, m in spec.mappings.items():
        at = f"{origin}: mapping {name!r}"
        if name in RESERVED_NAMES or not _valid_name(name):
            raise MappingError(f"{at}: name must match {NAME_PATTERN} and not be status/assignee")
        unknown = sorted(set(m.fields) - set(FIELDS))
        if unknown:
            raise MappingError(
                f"{at}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
            )
        missing = [f for f in REQUIRED if f not in m.fields]
        if "severity" not in m.fields and m.default_severity is None:
            missing.append("severity (or default_severity)")
        if missing:
            raise MappingError(f"{at}: required field(s) not mapped: {', '.join(missing)}")
        expressions: dict[str, ParsedResult] = {}
        for fname, expression in m.fields.items():
            try:
                expressions[fname] = jmespath.compile(expression)
            except JMESPathError as exc:
                raise MappingError(
                    f"{at}, field {fname!r}: `{expression}` is not JMESPath: {exc}"
                ) from None
        path_secret = None
        if m.path_secret_env:
            path_secret = os.environ.get(m.path_secret_env, "").strip() or None
            if path_secret is not None and len(path_secret) < MIN_PATH_SECRET:
                raise MappingError(
                    f"{at}: {m.path_secret_env} (path_secret_env) is shorter than "
                    f"{MIN_PATH_SECRET} characters"
                )
            if path_secret is None:
                log.warning("%s: %s is not set; the secret URL is off", at, m.path_secret_env)
        out[name] = Mapping(
            name=name,
            path_secret=path_secret,
            source=m.source,
            expressions=expressions,
            severities={k.strip().lower(): v for k, v in m.severities.items()},
            default_severity=m.default_severity,
            keep_raw=m.keep_raw,
        )
    return out


def _valid_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


def load_mappings(path: str | None) -> dict[str, Mapping]:
    """The mappings file at `path` (none configured: no mappings); raises MappingError."""
    if not path:
        return {}
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"PARLEY_INTAKE_MAPPINGS={path}: cannot read it: {exc}") from None
    return parse_mappings(text, origin=f"PARLEY_INTAKE_MAPPINGS={path}")
