"""Show Alert Details on a big event (issue 13): every top-level key shown in the event's own
order, long values clipped one by one, and the whole JSON uploaded to the thread as a file."""

from __future__ import annotations

import json
from typing import Any

from parley.slack.ui import ids
from tests.e2e.conftest import Stack
from tests.e2e.test_context import ALICE, _alert, _blob, _copy, _replies
from tools.slack_standin.api_files import file_content


def okta_event() -> dict[str, Any]:
    """A ~12 kB Okta System Log event whose user agent alone is 9,000 characters."""
    return {
        "actor": {
            "id": "00u1abcdEFGH2ijk3l4",
            "type": "User",
            "alternateId": "alice@example.com",
            "displayName": "Alice Example",
            "detailEntry": None,
        },
        "client": {
            "userAgent": {
                "rawUserAgent": "Mozilla/5.0 " + "(X11; Linux x86_64) " * 450,
                "os": "Linux",
                "browser": "CHROME",
            },
            "zone": "null",
            "device": "Computer",
            "id": None,
            "ipAddress": "203.0.113.7",
            "geographicalContext": {
                "city": "Lagos",
                "state": "Lagos",
                "country": "Nigeria",
                "postalCode": None,
                "geolocation": {"lat": 6.4541, "lon": 3.3947},
            },
        },
        "authenticationContext": {
            "authenticationProvider": "OKTA_AUTHENTICATION_PROVIDER",
            "credentialProvider": None,
            "credentialType": "PASSWORD",
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": "102bZDNFfWaQSyEZQuDgWt-uQ",
        },
        "displayMessage": "User login to Okta",
        "eventType": "user.session.start",
        "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
        "published": "2026-11-30T07:00:00.000Z",
        "securityContext": {
            "asNumber": 64500,
            "asOrg": "example transit",
            "isp": "example isp",
            "domain": "example.net",
            "isProxy": False,
        },
        "severity": "INFO",
        "debugContext": {
            "debugData": {
                "requestId": "Xy1abc2DEF3ghi4JKL5mno6",
                "requestUri": "/api/v1/authn",
                "threatSuspected": "false",
                "url": "/api/v1/authn?",
                "loginResult": "INVALID_CREDENTIALS",
                "behaviors": "{New Geo-Location=POSITIVE, New Device=POSITIVE, "
                "New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, "
                "Velocity=POSITIVE, New City=POSITIVE}",
                "risk": "{level=HIGH, reasons=Anomalous Location}",
            }
        },
        "legacyEventType": "core.user_auth.login_failed",
        "transaction": {"type": "WEB", "id": "Xy1abc2DEF3ghi4JKL5mno6", "detail": {}},
        "uuid": "2f5c0ad4-6f0b-11f1-9c2b-5d1f0e4b3a21",
        "version": "0",
        "request": {
            "ipChain": [
                {
                    "ip": "203.0.113.7",
                    "geographicalContext": {"city": "Lagos", "country": "Nigeria"},
                    "version": "V4",
                    "source": None,
                }
            ]
        },
        "target": [
            {
                "id": f"0oa{i:03d}example",
                "type": "AppInstance",
                "alternateId": f"App {i}",
                "displayName": f"Example app number {i}",
            }
            for i in range(12)
        ],
    }


async def test_details_on_a_big_event_show_every_key_and_upload_the_file(fresh: Stack) -> None:
    event = okta_event()
    size = len(json.dumps(event))
    assert 11_000 < size < 14_000, size
    state = await _alert(fresh, first_event=event)
    a = _copy(state, "C0ALERTS")
    res = await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)
    assert res.status == 200

    def uploaded() -> list[dict[str, Any]]:
        return [r for r in _replies(fresh, a.channel, a.ts) if r.get("files")]

    files = (await fresh.wait_for(uploaded, what="the event file in the thread"))[0]["files"]
    details = next(r for r in _replies(fresh, a.channel, a.ts) if "Alert details" in _blob(r))
    shown = next(
        e["elements"][0]["text"]
        for b in details["blocks"]
        if b["type"] == "rich_text"
        for e in b["elements"]
        if e["type"] == "rich_text_preformatted"
    )
    # Every top-level key, in the event's own order, and the point of the alert.
    positions = [shown.index(f'\n  "{key}": ') for key in event]
    assert positions == sorted(positions), shown
    assert '"eventType": "user.session.start"' in shown
    assert '"reason": "INVALID_CREDENTIALS"' in shown
    # The one huge value is clipped, with its original length.
    raw_ua = event["client"]["userAgent"]["rawUserAgent"]
    assert f"… ({len(raw_ua):,} characters)" in shown
    assert "file below" in _blob(details)

    # The whole JSON went up with files v2, into this thread, once.
    assert file_content(fresh.standin, files[0]["id"]) == event
    completes = [
        c
        for c in fresh.standin.calls("files.completeUploadExternal")
        if c["args"].get("thread_ts") == a.ts
    ]
    assert len(completes) == 1 and completes[0]["args"]["channel_id"] == a.channel
    assert [c for c in fresh.standin.calls("files.getUploadURLExternal")]


async def test_small_event_has_no_file(fresh: Stack) -> None:
    state = await _alert(fresh)
    a = _copy(state, "C0ALERTS")
    await fresh.standin.driver.click(ALICE, a.channel, a.ts, ids.SHOW_DETAILS)

    def details() -> list[dict[str, Any]]:
        return [r for r in _replies(fresh, a.channel, a.ts) if "Alert details" in _blob(r)]

    posted = (await fresh.wait_for(details, what="details"))[0]
    assert "file below" not in _blob(posted)
    assert not [r for r in _replies(fresh, a.channel, a.ts) if r.get("files")]
