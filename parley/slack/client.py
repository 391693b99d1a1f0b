"""The Slack Web API client Parley uses everywhere, and the response_url sender."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient


def make_slack_client(token: str, base_url: str, timeout: float = 15.0) -> AsyncWebClient:
    # No retry handlers: a connection-error retry inside slack-sdk would re-send a post Slack may
    # already have accepted. Temporal retries the activity, which looks for the message first.
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


async def send_ephemeral(response_url: str, text: str, timeout: int = 10) -> int:
    """An ephemeral note through an interaction's response_url; returns Slack's HTTP status."""
    resp = await AsyncWebhookClient(response_url, timeout=timeout).send(
        text=text, response_type="ephemeral", replace_original=False
    )
    return resp.status_code
