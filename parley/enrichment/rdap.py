"""RDAP ownership through ipwhois 1.3.0, with a configurable bootstrap URL and no sleeping.

ipwhois builds its request URL from the module global `ipwhois.rdap.BOOTSTRAP_URL` at call
time and has no option for it (upstream issue #241). Patching that global per call would race
between threads, so instead each call gets its own `proxy_opener` (an `OpenerDirector`
subclass, as ipwhois requires) that rewrites the default bootstrap prefix to ours. The same
opener remembers the transport error, because ipwhois folds timeouts, refusals and HTTP errors
into one `HTTPLookupError` and the card should say which it was.

Call shape: `bootstrap=True` skips ipwhois's Team Cymru DNS/whois path (no DNS, one HTTP
request plus redirects); `inc_nir=False` because bootstrap + NIR crashes (issue #148);
`retry_count=0, rate_limit_timeout=0` so a 429 or a "Rate Limit Notice" fails at once instead
of sleeping inside the activity (default 120 s); `root_ent_check=False` avoids one extra
request per entity.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

import ipwhois.rdap
from ipwhois import IPWhois
from ipwhois.exceptions import HTTPLookupError, HTTPRateLimitError, IPDefinedError

from parley.enrichment.models import EnrichmentUnavailable, Provenance, RdapResult

_REGISTRIES = {
    "arin": "ARIN",
    "ripe": "RIPE NCC",
    "apnic": "APNIC",
    "lacnic": "LACNIC",
    "afrinic": "AFRINIC",
}


class _RdapOpener(urllib.request.OpenerDirector):
    """A per-call urllib opener: points ipwhois at our bootstrap URL and keeps the last error."""

    def __init__(self, bootstrap_url: str | None) -> None:
        super().__init__()
        # The same handlers ipwhois would build itself (ProxyHandler honours NO_PROXY etc.).
        for handler in urllib.request.build_opener(urllib.request.ProxyHandler()).handlers:
            self.add_handler(handler)
        self.bootstrap_url = bootstrap_url.rstrip("/") if bootstrap_url else None
        self.last_error: BaseException | None = None
        self.urls: list[str] = []

    def open(
        self, fullurl: Any, data: Any = None, timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT
    ) -> Any:  # urllib's own default
        url = fullurl.full_url if isinstance(fullurl, urllib.request.Request) else str(fullurl)
        default = str(ipwhois.rdap.BOOTSTRAP_URL).rstrip("/")
        if self.bootstrap_url and url.startswith(default + "/"):
            url = self.bootstrap_url + url[len(default) :]
            if isinstance(fullurl, urllib.request.Request):
                fullurl.full_url = url
            else:
                fullurl = url
        self.urls.append(url)
        try:
            return super().open(fullurl, data, timeout)
        except BaseException as exc:
            self.last_error = exc
            raise


def _is_timeout(exc: BaseException | None) -> bool:
    if isinstance(exc, URLError) and not isinstance(exc, HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else None
    return isinstance(exc, TimeoutError | socket.timeout)


def _unavailable(
    exc: HTTPLookupError, opener: _RdapOpener, timeout: float
) -> EnrichmentUnavailable:
    cause = opener.last_error
    if _is_timeout(cause):
        return EnrichmentUnavailable(f"RDAP lookup timed out after {timeout:g} s", transient=True)
    if isinstance(cause, HTTPError):
        if cause.code == 404:
            return EnrichmentUnavailable("no RDAP record for this address (HTTP 404)")
        return EnrichmentUnavailable(
            f"RDAP server answered HTTP {cause.code}", transient=cause.code >= 500
        )
    if isinstance(cause, URLError):
        return EnrichmentUnavailable(f"RDAP server unreachable ({cause.reason})", transient=True)
    return EnrichmentUnavailable(f"RDAP lookup failed ({exc})", transient=True)


def _registry(raw: Mapping[str, Any] | None, urls: list[str]) -> str | None:
    hints = [str((raw or {}).get("port43") or "")] + [urlsplit(u).hostname or "" for u in urls]
    for hint in hints:
        for key, name in _REGISTRIES.items():
            if key in hint.lower():
                return name
    return None


def _org(data: Mapping[str, Any]) -> str | None:
    objects: Mapping[str, Any] = data.get("objects") or {}
    named = [
        (handle, obj)
        for handle, obj in objects.items()
        if isinstance(obj, Mapping) and (obj.get("contact") or {}).get("name")
    ]
    # The registrant organisation owns the block; other roles are contacts.
    for _, obj in named:
        contact = obj["contact"]
        if "registrant" in (obj.get("roles") or []) and contact.get("kind") in (None, "org"):
            return str(contact["name"])
    return str(named[0][1]["contact"]["name"]) if named else None


def lookup_rdap(
    ip: str, *, bootstrap_url: str | None = None, timeout: float = 5.0, now: datetime | None = None
) -> RdapResult:
    """RDAP ownership of `ip`; raises EnrichmentUnavailable (with .transient) on failure.

    `bootstrap_url` replaces ipwhois's RDAP bootstrap service (None keeps its default).
    Blocking: run it in a thread or a sync activity.
    """
    opener = _RdapOpener(bootstrap_url)
    try:
        whois = IPWhois(ip, timeout=timeout, proxy_opener=opener)
    except IPDefinedError as exc:
        raise EnrichmentUnavailable(f"no RDAP for this address: {exc}") from exc
    except ValueError as exc:
        raise EnrichmentUnavailable(f"not an IP address: {ip!r}") from exc
    try:
        data = whois.lookup_rdap(
            inc_raw=True,
            retry_count=0,
            depth=0,
            bootstrap=True,
            rate_limit_timeout=0,
            inc_nir=False,
            root_ent_check=False,
        )
    except HTTPRateLimitError as exc:
        raise EnrichmentUnavailable(
            "RDAP server is rate-limiting us (HTTP 429 or rate-limit notice)", transient=True
        ) from exc
    except HTTPLookupError as exc:
        raise _unavailable(exc, opener, timeout) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EnrichmentUnavailable(f"RDAP answer not understood ({type(exc).__name__})") from exc
    network: Mapping[str, Any] = data.get("network") or {}
    registry = _registry(data.get("raw"), opener.urls)
    return RdapResult(
        network_name=network.get("name"),
        handle=network.get("handle"),
        cidr=network.get("cidr"),
        start_address=network.get("start_address"),
        end_address=network.get("end_address"),
        country=network.get("country"),
        registry=registry,
        org=_org(data),
        entities=[str(e) for e in data.get("entities") or []],
        provenance=Provenance(
            source=f"RDAP ({registry or urlsplit(opener.urls[-1]).hostname})",
            database_type="rdap",
            fetched_at=now or datetime.now(UTC),
        ),
    )
