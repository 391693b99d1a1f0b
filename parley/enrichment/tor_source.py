"""Load, cache and refresh the Tor exit list (the scheduled refresh calls `refresh_tor_list`).

The refresh writes the last good list atomically (temp file + os.replace) with a sidecar
`<file>.meta.json` holding {fetched_at, source, count, sha256, format}; a rejected download
leaves the last good file in place. The request path only ever reads the cached file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from parley.enrichment.models import TorResult
from parley.enrichment.tor import TorExitList, TorListError

MAX_LIST_BYTES = 16 * 1024 * 1024  # the real lists are ~100 KB; anything huge is not one
_RETRY_FETCH_AFTER = timedelta(seconds=60)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _fetch_url(url: str, timeout: float) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": "parley-enrichment"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read(MAX_LIST_BYTES + 1)
    if len(body) > MAX_LIST_BYTES:
        raise TorListError(f"Tor exit list from {url} is larger than {MAX_LIST_BYTES} bytes")
    return body.decode("utf-8", errors="replace")


def _file_fetched_at(path: Path, raw: bytes) -> datetime:
    """The sidecar's fetch time when it describes these bytes, else the file's mtime."""
    try:
        meta = json.loads(_sidecar(path).read_text("utf-8"))
        if meta.get("sha256") == hashlib.sha256(raw).hexdigest():
            return datetime.fromisoformat(meta["fetched_at"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def load_tor_list(
    source: str, *, timeout: float = 15.0, now: Callable[[], datetime] = _utcnow
) -> tuple[TorExitList, str]:
    """Load and parse a list from a file path or an http(s) URL; returns (list, raw text).

    Raises TorListError for a bad list and OSError for I/O and network failures.
    """
    if _is_url(source):
        text = _fetch_url(source, timeout)
        return TorExitList.parse(text, fetched_at=now(), source=source), text
    path = Path(source)
    raw = path.read_bytes()
    if len(raw) > MAX_LIST_BYTES:
        raise TorListError(f"{path} is larger than {MAX_LIST_BYTES} bytes")
    text = raw.decode("utf-8", errors="replace")
    return TorExitList.parse(text, fetched_at=_file_fetched_at(path, raw), source=source), text


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tor_cache(path: str | os.PathLike[str], text: str, tor_list: TorExitList) -> None:
    """Store a verified list and its sidecar atomically (data first: a reader that sees new
    data with the old sidecar falls back to the file's mtime, which is just as fresh)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = text.encode("utf-8")
    _atomic_write(target, raw)
    meta = {
        "fetched_at": tor_list.fetched_at.isoformat(),
        "source": tor_list.source,
        "count": len(tor_list.exits),
        "format": tor_list.format,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    _atomic_write(_sidecar(target), json.dumps(meta, indent=1).encode("utf-8"))


class TorRefreshResult(BaseModel):
    source: str
    cache_path: str
    count: int
    previous_count: int | None
    fetched_at: datetime
    format: str


def refresh_tor_list(
    source: str,
    cache_path: str | os.PathLike[str],
    *,
    timeout: float = 15.0,
    min_entries: int = 100,
    max_shrink: float = 0.5,
    now: Callable[[], datetime] = _utcnow,
) -> TorRefreshResult:
    """Fetch, verify and atomically store the list: the body of the hourly scheduled activity.

    Raises (keeping the last good file) when the download fails or looks wrong: fewer than
    `min_entries` exits, or a drop of more than `max_shrink` against the previous list. The
    caller's retry policy decides when to try again; nothing here sleeps.
    """
    tor_list, text = load_tor_list(source, timeout=timeout, now=now)
    count = len(tor_list.exits)
    if count < min_entries:
        raise TorListError(f"only {count} exits in {source} (minimum {min_entries}); kept last")
    previous_count: int | None = None
    try:
        previous_count = len(load_tor_list(os.fspath(cache_path))[0].exits)
    except (OSError, TorListError):
        pass
    if previous_count and count < previous_count * (1 - max_shrink):
        raise TorListError(
            f"{count} exits against {previous_count} before: list looks truncated; kept last"
        )
    write_tor_cache(cache_path, text, tor_list)
    return TorRefreshResult(
        source=source,
        cache_path=os.fspath(cache_path),
        count=count,
        previous_count=previous_count,
        fetched_at=tor_list.fetched_at,
        format=tor_list.format,
    )


class TorListStore:
    """The request-path view of the cached list: loaded once, reloaded when the file changes.

    With a `snapshot` (a list that came with a package), the fresher of the two answers: the
    refreshed list whenever the schedule keeps it up to date, the snapshot when there is none.
    """

    def __init__(
        self,
        source: str | None,
        *,
        max_age: timedelta,
        timeout: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
        snapshot: Callable[[], TorExitList | None] | None = None,
    ) -> None:
        self._source = source
        self._snapshot = snapshot  # called on each lookup: the caller loads it once and keeps it
        self._max_age = max_age
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._list: TorExitList | None = None
        self._stamp: tuple[int, int, int] | None = None
        # After a failed URL fetch, answer "unavailable" for a while instead of making every
        # lookup wait for the same timeout.
        self._failure: tuple[datetime, str] | None = None

    def _current(self) -> TorExitList:
        if self._source is None:
            raise TorListError(
                "no Tor exit list configured (set TOR_EXIT_LIST_SOURCE for an hourly refresh)"
            )
        with self._lock:
            if _is_url(self._source):
                # A URL is fetched once; the scheduled refresh keeps a file for the long run.
                if self._list is None:
                    if self._failure and self._clock() < self._failure[0]:
                        raise TorListError(self._failure[1])
                    try:
                        self._list = load_tor_list(
                            self._source, timeout=self._timeout, now=self._clock
                        )[0]
                    except (OSError, TorListError) as exc:
                        message = f"Tor exit list fetch failed: {exc}"
                        self._failure = (self._clock() + _RETRY_FETCH_AFTER, message)
                        raise TorListError(message) from exc
                return self._list
            st = Path(self._source).stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._list is None or stamp != self._stamp:
                self._list = load_tor_list(self._source, now=self._clock)[0]
                self._stamp = stamp
            return self._list

    def status(self, ip: str) -> TorResult:
        problem: str | None = None
        try:
            tor_list: TorExitList | None = self._current()
        except (OSError, TorListError) as exc:
            tor_list = None
            problem = str(exc) if isinstance(exc, TorListError) else f"Tor list unreadable: {exc}"
        snapshot = self._snapshot() if self._snapshot else None
        candidates = [t for t in (tor_list, snapshot) if t is not None]
        if not candidates:
            return TorResult(status="unavailable", answer="unknown", reason=problem)
        best = max(candidates, key=lambda t: t.as_of)  # the fresher list decides
        result = best.status(ip, now=self._clock(), max_age=self._max_age)
        if best.is_snapshot and result.answer == "unknown" and problem:
            # Say why there is no fresh answer, and how to get one.
            result = result.model_copy(update={"reason": f"{result.reason}; {problem}"})
        return result
