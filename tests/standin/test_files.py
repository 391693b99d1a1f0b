"""Files v2 through slack_sdk's own files_upload_v2: the three steps, Slack's limits and errors."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.slack_standin import StandIn
from tools.slack_standin.api_files import file_content


async def slack_error(coro: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        await coro
    return str(info.value.response["error"])


async def test_upload_v2_shares_the_file_in_a_thread(
    client: AsyncWebClient, standin: StandIn
) -> None:
    parent = await client.chat_postMessage(channel="C0ALERTS", text="alert")
    event = {"eventType": "user.session.start", "blob": "x" * 20_000}
    resp = await client.files_upload_v2(
        channel="C0ALERTS",
        thread_ts=parent["ts"],
        content=json.dumps(event),
        filename="event.json",
        title="First event",
        initial_comment="The whole event",
    )
    file_id = resp["file"]["id"]
    assert resp["file"]["title"] == "First event"
    assert file_content(standin, file_id) == event
    methods = [c["method"] for c in standin.journal()]
    assert methods[-3:] == [
        "files.getUploadURLExternal",
        "files.upload_url",
        "files.completeUploadExternal",
    ]
    reply = standin.replies("C0ALERTS", parent["ts"])[-1]
    assert reply["files"][0]["id"] == file_id and reply["text"] == "The whole event"
    # completeUploadExternal can be called once per file.
    again = client.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C0ALERTS")
    assert await slack_error(again) == "file_not_found"


async def test_upload_errors(client: AsyncWebClient, standin: StandIn) -> None:
    assert await slack_error(client.files_getUploadURLExternal(filename="a", length=0)) == (
        "missing_argument"
    )
    too_long = client.files_getUploadURLExternal(filename="a", length=3, alt_txt="x" * 1001)
    assert await slack_error(too_long) == "alt_txt_too_large"
    bad_type = client.files_getUploadURLExternal(filename="a", length=3, snippet_type="cobol")
    assert await slack_error(bad_type) == "unknown_snippet_type"
    step1 = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    # Not uploaded yet: nothing to complete.
    early = client.files_completeUploadExternal(files=[{"id": step1["file_id"]}])
    assert await slack_error(early) == "file_not_found"
    async with aiohttp.ClientSession() as http:
        async with http.post(step1["upload_url"], data=b"abc") as r:
            assert r.status == 200 and await r.text() == "OK - 3"
        async with http.post(step1["upload_url"], data=b"abc") as r:
            assert r.status == 404  # a URL is good for one upload
    not_member = client.files_completeUploadExternal(
        files=[{"id": step1["file_id"]}], channel_id="C0NOBOT"
    )
    assert await slack_error(not_member) == "not_in_channel"
    many = ",".join(["C0ALERTS"] * 101)
    limit = client.files_completeUploadExternal(files=[{"id": step1["file_id"]}], channels=many)
    assert await slack_error(limit) == "channels_limit_exceeded"
