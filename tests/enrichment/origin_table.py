"""Write a range table in iporigin's binary layout (format v1), so tests read committed sample
data through iporigin's own parser.

Layout (iporigin 1.1.2, `_data.py`): header `<8sHQHII` (magic, version, built_at, label count,
IPv4 count, IPv6 count); each label as `<H` length + "provider\\tkind"; then IPv4 records `<IIH`
and IPv6 records `<16s16sH` (start, end, label index), sorted and disjoint.
"""

from __future__ import annotations

import csv
import ipaddress
import itertools
import struct
from datetime import datetime
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "origin-sample.csv"

Row = tuple[int, int, int, str, str]  # version, start, end, provider, kind


def _span(text: str) -> tuple[int, int, int]:
    if "-" in text:
        first, last = (ipaddress.ip_address(p) for p in text.split("-", 1))
        return first.version, int(first), int(last)
    net = ipaddress.ip_network(text)
    return net.version, int(net.network_address), int(net.broadcast_address)


def read_sample(path: Path = SAMPLE) -> tuple[datetime, list[Row]]:
    built_at: datetime | None = None
    body: list[str] = []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("# built_at:"):
            built_at = datetime.fromisoformat(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            body.append(line)
    assert built_at is not None, "the sample names its build time"
    rows = [(*_span(r["range"]), r["provider"], r["kind"]) for r in csv.DictReader(body)]
    return built_at, rows


def write_table(path: Path, built_at: datetime, rows: list[Row]) -> Path:
    labels: list[tuple[str, str]] = []
    for *_, provider, kind in rows:
        if (provider, kind) not in labels:
            labels.append((provider, kind))
    v4 = sorted(r for r in rows if r[0] == 4)
    v6 = sorted(r for r in rows if r[0] == 6)
    for column in (v4, v6):
        for a, b in itertools.pairwise(column):
            assert a[2] < b[1], f"ranges overlap: {a} {b}"
    out = bytearray(
        struct.pack(
            "<8sHQHII", b"IPORIGIN", 1, int(built_at.timestamp()), len(labels), len(v4), len(v6)
        )
    )
    for provider, kind in labels:
        raw = f"{provider}\t{kind}".encode()
        out += struct.pack("<H", len(raw)) + raw
    for _, start, end, provider, kind in v4:
        out += struct.pack("<IIH", start, end, labels.index((provider, kind)))
    for _, start, end, provider, kind in v6:
        out += struct.pack(
            "<16s16sH",
            start.to_bytes(16, "big"),
            end.to_bytes(16, "big"),
            labels.index((provider, kind)),
        )
    path.write_bytes(bytes(out))
    return path


def write_sample(path: Path) -> Path:
    built_at, rows = read_sample()
    return write_table(path, built_at, rows)
