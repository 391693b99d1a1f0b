"""Show Alert Details and See Threat Intel, as applied by AlertWorkflow's main loop."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.alert_effects import ENRICH_OPTS, AlertEffects

with workflow.unsafe.imports_passed_through():
    from enrichment.models import ThreatIntel
    from slackui.details import render_details
    from slackui.intel import render_card, render_fallback_text
    from workflows.types import (
        DetailsRequest,
        IntelRequest,
        SlackCopy,
        ip_values,
    )


class AlertContext(AlertEffects):
    # ---- context: details and threat intel -----------------------------------------------------

    def _clicked_copy(self, channel: str | None, ts: str | None) -> SlackCopy | None:
        live = [c for c in self._state.copies if c.ts and not c.failed]
        exact = [c for c in live if c.channel == channel and (ts is None or c.ts == ts)]
        same_channel = [c for c in live if c.channel == channel]
        return (exact or same_channel or live or [None])[0]

    async def _show_details(self, req: DetailsRequest) -> None:
        st = self._state
        copy = self._clicked_copy(req.channel, req.message_ts)
        if copy is None:
            return
        now = workflow.now()
        last = st.details_posted_at.get(copy.destination_id)
        # A double click posts once; a later click posts again, as the thread has moved on.
        if last and (now - last).total_seconds() < self._inp.details_dedupe_seconds:
            return
        st.details_posted_at[copy.destination_id] = now
        ips = sorted({ip for _, ip in ip_values(st.alert.summary_attributes)})
        locations: dict[str, str] = {}
        if ips:
            try:
                locations = await workflow.execute_activity(
                    "enrich.locate", ips, result_type=dict[str, str], **ENRICH_OPTS
                )
            except ActivityError as err:  # details without places beat no details
                workflow.logger.warning("no locations for details: %s", err)
        # History first, as for every change: the console never misses what Slack shows.
        await self._history("details_shown", req.actor, key=f"details/{req.key}")
        rendered = render_details(st, locations, self._inp.console_base_url)
        await self._reply_in(copy, f"details/{req.key}", rendered.text, rendered.blocks)

    async def _threat_intel(self, req: IntelRequest) -> None:
        st = self._state
        allowed = {ip for _, ip in ip_values(st.alert.summary_attributes)}
        if req.ip not in allowed:
            await self._tell(req, f"{req.ip} is not an IP address of this alert.")
            return
        copy = self._clicked_copy(req.channel, req.message_ts)
        if copy is None:
            return
        try:
            intel = await workflow.execute_activity(
                "enrich.analyse", req.ip, result_type=ThreatIntel, **ENRICH_OPTS
            )
        except ActivityError as err:
            workflow.logger.warning("threat intel for %s failed: %s", req.ip, err)
            await self._tell(req, f"Threat intel for {req.ip} is unavailable right now.")
            return
        await self._history(
            "threat_intel_viewed", req.actor, key=f"intel/{req.key}", to_value=req.ip
        )
        await self._reply_in(
            copy, f"intel/{req.key}", render_fallback_text(intel), render_card(intel)
        )
