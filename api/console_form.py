"""The console's change form: status and assignee changes sent to the REST API, which signals
the alert's workflow, so a change made here reaches every Slack copy like a click would."""

from __future__ import annotations

import json
from html import escape

from parley.domain import Status
from parley.store.views import AlertDetail


def render_change_form(detail: AlertDetail, nonce: str, token_required: bool) -> str:
    options = "".join(
        f'<option value="{s.value}"{" selected" if s is detail.status else ""}>{s.value}</option>'
        for s in Status
    )
    token = (
        '<label>API token <input type="password" id="pc-token" autocomplete="off"></label>'
        if token_required
        else ""
    )
    alert_id = json.dumps(detail.alert_id)
    return f"""
<h2>Change</h2>
<form id="pc-form">
  <label>Your name <input id="pc-user" required maxlength="100"></label>
  {token}
  <fieldset><legend>Status</legend>
    <select id="pc-status">{options}</select>
    <textarea id="pc-comment" maxlength="3000"
      placeholder="Resolution comment (required for Resolved)"></textarea>
    <button type="button" id="pc-status-go">Set status</button>
  </fieldset>
  <fieldset><legend>Assignee</legend>
    <input id="pc-assignee" placeholder="Slack user id, e.g. U0ALICE; empty to unassign"
      value="{escape(detail.assignee_id or "")}" pattern="[UW][A-Z0-9]{{2,}}">
    <button type="button" id="pc-assignee-go">Set assignee</button>
  </fieldset>
  <p id="pc-result" role="status"></p>
</form>
<script nonce="{escape(nonce)}">
(() => {{
  const alertId = {alert_id};
  const $ = (id) => document.getElementById(id);
  // No inline handlers: the page's CSP allows only this nonce'd script.
  $("pc-form").addEventListener("submit", (e) => e.preventDefault());
  const tokenBox = $("pc-token");
  $("pc-user").value = localStorage.getItem("parley-user") || "";
  $("pc-user").addEventListener("change",
    () => localStorage.setItem("parley-user", $("pc-user").value));
  const fromCookie = (document.cookie.match(/(?:^|; )parley_token=([^;]*)/) || [])[1];
  if (tokenBox) tokenBox.value = sessionStorage.getItem("parley-token")
    || (fromCookie ? decodeURIComponent(fromCookie) : "");
  async function send(path, body) {{
    const headers = {{"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()}};
    if (tokenBox) {{
      sessionStorage.setItem("parley-token", tokenBox.value);
      headers["Authorization"] = "Bearer " + tokenBox.value;
    }}
    const resp = await fetch("/alerts/" + encodeURIComponent(alertId) + path,
      {{method: "POST", headers, body: JSON.stringify(body)}});
    const data = await resp.json().catch(() => ({{}}));
    $("pc-result").textContent = !resp.ok
      ? "Refused: " + (data.detail && data.detail.toString() || resp.status)
      : data.queued
      ? "Queued: the workflow engine is away; applied in order as soon as it is back."
      : "Sent. Slack and this page update in a moment.";
    if (resp.ok) setTimeout(() => location.reload(), 1500);
  }}
  $("pc-status-go").addEventListener("click", () => send("/status", {{
    status: $("pc-status").value, comment: $("pc-comment").value || null,
    user: $("pc-user").value}}));
  $("pc-assignee-go").addEventListener("click", () => send("/assignee", {{
    assignee_id: $("pc-assignee").value || null, user: $("pc-user").value}}));
}})();
</script>"""
