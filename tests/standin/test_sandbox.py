"""The sandbox page's Block Kit rendering: mrkdwn, mentions by name, dates, emoji, selects, and
escaping of whatever a message carries."""

from __future__ import annotations

from tools.slack_standin.sandbox import block_html, message_html, mrkdwn
from tools.slack_standin.workspace import Workspace


def test_mrkdwn_as_slack_shows_it() -> None:
    ws = Workspace(None, 3.0)
    html = mrkdwn(
        "*bold* _it_ ~gone~ `code` <@U0ALICE> <#C0ALERTS> <https://x.test/a?b=1&amp;c=2|the link> "
        ":white_check_mark: :large_yellow_circle: <!date^1700000000^{date_num} {time}|then> "
        "&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|click>",
        ws,
    )
    assert "<b>bold</b>" in html and "<i>it</i>" in html and "<s>gone</s>" in html
    assert "<code>code</code>" in html
    assert "@Alice Anders" in html and "#security-alerts" in html
    assert 'href="https://x.test/a?b=1&amp;c=2"' in html and ">the link</a>" in html
    assert "✅" in html and "🟡" in html
    assert "2023-11-14 22:13 UTC" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html  # only http(s) and mailto links are links


def test_blocks_fields_selects_and_rich_text() -> None:
    ws = Workspace(None, 3.0)
    section = {
        "type": "section",
        "block_id": "b1",
        "fields": [{"type": "mrkdwn", "text": "*Status*\nOpen"}],
        "accessory": {
            "type": "static_select",
            "action_id": "alert.update_status",
            "placeholder": {"type": "plain_text", "text": "Update Status"},
            "options": [{"text": {"type": "plain_text", "text": "Triaged"}, "value": "Triaged"}],
        },
    }
    html = block_html(section, ws, "1.000001")
    assert '<div class="fields"><div><b>Status</b><br>Open</div></div>' in html
    assert 'data-action="alert.update_status"' in html and 'data-ts="1.000001"' in html
    assert '<option value="Triaged">Triaged</option>' in html and "Update Status" in html
    users = block_html(
        {"type": "actions", "block_id": "a", "elements": [
            {"type": "users_select", "action_id": "alert.set_assignee"}
        ]},
        ws,
        "1.0",
    )  # fmt: skip
    assert 'data-kind="user"' in users and ">Bob Brown</option>" in users
    assert "Dave Doe" not in users and "Helper Bot" not in users  # deleted, a bot
    rich = {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "<b>x</b>", "style": {"bold": True}},
            {"type": "user", "user_id": "U0BOB"},
        ]}],
    }  # fmt: skip
    assert block_html(rich, ws, "1.0") == (
        '<div class="text"><b>&lt;b&gt;x&lt;/b&gt;</b><span class="mention">@Bob Brown</span></div>'
    )
    msg = message_html({"ts": "1.0", "user": "U0PARLEY", "text": "hi", "edited": {}}, ws)
    assert "<b>parley</b>" in msg and "(edited)" in msg
