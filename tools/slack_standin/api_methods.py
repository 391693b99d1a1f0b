"""The Web API method table: handler and rate-limit tier per method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import api_chat, api_conversations, api_files, api_home, api_usergroups, api_views
from .workspace import Workspace

Handler = Callable[[Workspace, dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class MethodSpec:
    handler: Handler
    tier: str  # "1".."4", "special", or "post" (chat.postMessage's per-channel limit)
    needs_auth: bool = True


# Tiers from slackapi/java-slack-sdk MethodsRateLimits.java and Slack's method pages.
METHODS: dict[str, MethodSpec] = {
    "api.test": MethodSpec(api_conversations.api_test, "4", needs_auth=False),
    "auth.test": MethodSpec(api_conversations.auth_test, "special"),
    "chat.postMessage": MethodSpec(api_chat.post_message, "post"),
    "chat.update": MethodSpec(api_chat.update, "3"),
    "chat.delete": MethodSpec(api_chat.delete, "3"),
    "chat.postEphemeral": MethodSpec(api_chat.post_ephemeral, "4"),
    "chat.getPermalink": MethodSpec(api_chat.get_permalink, "special"),
    "conversations.open": MethodSpec(api_conversations.conversations_open, "3"),
    "conversations.info": MethodSpec(api_conversations.conversations_info, "3"),
    "conversations.history": MethodSpec(api_conversations.history, "3"),
    "conversations.replies": MethodSpec(api_conversations.replies, "3"),
    "users.info": MethodSpec(api_conversations.users_info, "4"),
    "users.lookupByEmail": MethodSpec(api_conversations.users_lookup_by_email, "3"),
    "usergroups.users.list": MethodSpec(api_usergroups.usergroups_users_list, "2"),
    "views.open": MethodSpec(api_views.views_open, "4"),
    "views.push": MethodSpec(api_views.views_push, "4"),
    "views.update": MethodSpec(api_views.views_update, "4"),
    "views.publish": MethodSpec(api_home.views_publish, "4"),
    "files.getUploadURLExternal": MethodSpec(api_files.get_upload_url, "4"),
    "files.completeUploadExternal": MethodSpec(api_files.complete_upload, "4"),
}
