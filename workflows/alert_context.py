"""Show Alert Details and See Threat Intel, as AlertWorkflow's main loop applies them."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.alert_effects import AlertEffects
from workflows.options import ENRICH_OPTS

with workflow.unsafe.imports_passed_through():
    from activities.enrichment import EnrichmentActivities
    from activities.slack_fanout import Reply
    from parley.domain import SlackCopy, ip_values
    from parley.slack.ui.details import first_event_limit, render_details
    from parley.slack.ui.event_json import Attachment, event_attachment
    from parley.slack.ui.intel import render_card, render_fallback_text
    from workflows.alert_types import DetailsRequest, IntelRequest


def clicked_copy(fx: AlertEffects, channel: str | None, ts: str | None) -> SlackCopy | None:
    """The copy whose button was clicked; its thread gets the answer."""
    live = [c for c in fx.state.copies if c.ts and not c.failed]
    exact = [c for c in live if c.channel == channel and (ts is None or c.ts == ts)]
    same_channel = [c for c in live if c.channel == channel]
    return (exact or same_channel or live or [None])[0]


async def show_details(fx: AlertEffects, req: DetailsRequest) -> None:
    st = fx.state
    copy = clicked_copy(fx, req.channel, req.message_ts)
    if copy is None:
        return
    now = workflow.now()
    last = st.details_posted_at.get(copy.destination_id)
    # A double click posts once; a later click posts again, as the thread has moved on.
    if last and (now - last).total_seconds() < fx.inp.details_dedupe_seconds:
        return
    st.details_posted_at[copy.destination_id] = now
    ips = sorted({ip for _, ip in ip_values(st.alert.summary_attributes)})
    locations: dict[str, str] = {}
    if ips:
        try:
            locations = await workflow.execute_activity_method(
                EnrichmentActivities.locate, ips, **ENRICH_OPTS
            )
        except ActivityError as err:  # details without places beat no details
            workflow.logger.warning("no locations for details: %s", err)
    # History first, as for every change: the console never misses what Slack shows.
    await fx.history("details_shown", req.actor, key=f"details/{req.key}")
    rendered = render_details(st, locations, fx.inp.console_base_url)
    attachment: Attachment | None = None
    if fx.batched:  # the legacy generation's thread_reply has no file; it only replays
        limit = first_event_limit(st)
        attachment = event_attachment(st.alert.id, st.alert.first_event, req.key, limit)
    if attachment is not None:
        reply = Reply(
            key_suffix=f"details/{req.key}",
            text=rendered.text,
            blocks=rendered.blocks,
            attachment=attachment,
        )
        await fx.reply_with(copy, reply)
        return
    await fx.reply_in(copy, f"details/{req.key}", rendered.text, rendered.blocks)


async def threat_intel(fx: AlertEffects, req: IntelRequest) -> None:
    allowed = {ip for _, ip in ip_values(fx.state.alert.summary_attributes)}
    if req.ip not in allowed:
        await fx.tell(req, f"{req.ip} is not an IP address of this alert.")
        return
    copy = clicked_copy(fx, req.channel, req.message_ts)
    if copy is None:
        return
    try:
        intel = await workflow.execute_activity_method(
            EnrichmentActivities.analyse, req.ip, **ENRICH_OPTS
        )
    except ActivityError as err:
        workflow.logger.warning("threat intel for %s failed: %s", req.ip, err)
        await fx.tell(req, f"Threat intel for {req.ip} is unavailable right now.")
        return
    await fx.history("threat_intel_viewed", req.actor, key=f"intel/{req.key}", to_value=req.ip)
    await fx.reply_in(copy, f"intel/{req.key}", render_fallback_text(intel), render_card(intel))
