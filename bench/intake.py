"""Benchmark 1, intake: how fast POST /alerts accepts alerts, and how fast they reach Slack.

- Intake rate: N alerts (default 300) POSTed with 20 in flight, divided by the rate of bare
  `client.start_workflow` calls of a trivial workflow at the same concurrency on the same server
  (the reference; measured before and after, averaged). Issue 10: 55/s / 73/s = 0.75, target >= 0.9.
- Posting: from the first POST to the last alert's `chat.postMessage` in the stand-in's journal
  (one channel per alert, the stand-in without rate limits). Issue 10: 38 s for 300; target:
  bounded by Slack's pace, not by Parley. The reference is the stand-in alone: the same number of
  `chat.postMessage` calls of the same message, sent straight to it at the same concurrency.

`python -m bench.intake [--alerts N] [--concurrency C] [--quick]`
"""

from __future__ import annotations

import argparse

from slack_sdk.web.async_client import AsyncWebClient

from bench.load import Burst, bare_starts, burst, make_alert, new_run_id
from bench.report import Figure, machine_note, parser_for, print_figures, run_main, spread
from bench.slack import BOT_TOKEN, alert_posts
from bench.stack import ACCEPTED, Stack, StackOptions
from parley.domain import AlertIn
from parley.slack.ui.alert import render_alert
from tools.slack_standin.ratelimit import POST_PER_CHANNEL, POST_WORKSPACE
from workflows.alert_types import AlertState

WARM_UP = 5


async def slack_alone(stack: Stack, count: int, concurrency: int) -> Burst:
    """The same alert message posted straight to the stand-in (another channel), no Parley."""
    rendered = render_alert(
        AlertState(alert=AlertIn.model_validate(make_alert("ref", 0))), stack.api_url
    )
    client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{stack.standin_url}/api/")

    async def post(i: int) -> str:
        await client.chat_postMessage(channel="C0CRIT", text=rendered.text, blocks=rendered.blocks)
        return "posted"

    return await burst(range(count), concurrency, post)


def slack_pace_seconds(count: int) -> float:
    """Real Slack's floor for `count` posts into one channel: its per-channel and workspace
    chat.postMessage limits (the stand-in's figures, from Slack's documentation)."""
    floors = []
    for per_minute, burst_size in (POST_PER_CHANNEL, POST_WORKSPACE):
        floors.append(max(0.0, count - burst_size) / (per_minute / 60))
    return max(floors)


async def body(args: argparse.Namespace) -> None:
    n, c = args.alerts, args.concurrency
    async with Stack(StackOptions(keep=args.keep)) as stack:
        run = new_run_id()
        # Warm up connections, imports and the first workflow tasks on both paths.
        await stack.post_alerts([make_alert(f"{run}w", i) for i in range(WARM_UP)], WARM_UP)
        await stack.wait_copies(WARM_UP, timeout=120, what="the warm-up alerts posted")
        await bare_starts(stack.client, c, c)

        bare_before = await bare_starts(stack.client, n, c)
        alerts = [make_alert(run, i) for i in range(n)]
        intake = await stack.post_alerts(alerts, c)
        accepted = sum(v for k, v in intake.outcomes.items() if k.isdigit() and int(k) in ACCEPTED)
        await stack.wait_copies(
            WARM_UP + accepted, timeout=60 + 2 * n, what=f"{accepted} alerts posted"
        )
        posts = alert_posts(await stack.slack.calls("chat.postMessage"))
        ours = {p.alert_id: p.at for p in posts if p.alert_id.startswith(f"bench-{run}-")}
        posting = max(ours.values()) - intake.started if ours else float("nan")
        bare_after = await bare_starts(stack.client, n, c)
        alone = await slack_alone(stack, n, c)

    bare_rate = (bare_before.rate + bare_after.rate) / 2
    ratio = intake.rate / bare_rate
    refused = {k: v for k, v in intake.outcomes.items() if not (k.isdigit() and int(k) in ACCEPTED)}
    print_figures(
        f"Intake: {n} alerts, {c} in flight (worker, API, dev server on SQLite, stand-in: "
        "no rate limits)",
        [
            Figure(
                "POST /alerts rate",
                f"{intake.rate:.1f}/s",
                "",
                f"bare start_workflow {bare_rate:.1f}/s "
                f"({bare_before.rate:.1f} before, {bare_after.rate:.1f} after)",
            ),
            Figure("intake / bare starts", f"{ratio:.2f}", ">= 0.9 (was 0.75)", "1.0"),
            Figure(
                "POST /alerts latency p50 / p99",
                spread(intake.latencies),
                "",
                f"bare start_workflow {spread(bare_before.latencies)}",
            ),
            Figure(
                f"{len(ours)} alerts: first POST -> last posted",
                f"{posting:.1f} s ({len(ours) / posting:.1f} alerts/s)",
                "Slack's pace (was 38 s)",
                f"stand-in alone {alone.wall:.1f} s ({alone.rate:.0f} posts/s)",
            ),
        ],
        [
            f"accepted {accepted} of {n}; refused or failed: {refused or 'none'}",
            f"real Slack would take >= {slack_pace_seconds(n):.0f} s for {n} posts in one channel "
            f"(chat.postMessage ~{POST_PER_CHANNEL[0]:.0f}/min per channel, "
            f"{POST_WORKSPACE[0]:.0f}/min per workspace)",
            machine_note(),
        ],
    )


def main() -> None:
    parser = parser_for(__doc__)
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.alerts = min(args.alerts, 100)
    run_main("intake", args, body, budget=180 + 3 * args.alerts)


if __name__ == "__main__":
    main()
