"""Benchmark 1, intake: how fast POST /alerts accepts alerts, and how fast they reach Slack.

- Intake rate: N alerts (default 300) POSTed with 20 in flight, divided by the rate of bare
  `client.start_workflow` calls of a trivial workflow at the same concurrency on the same server
  (the reference; measured before and after, averaged). Issue 10: 55/s / 73/s = 0.75, target >= 0.9.
- Posting: from the first POST to the last alert's `chat.postMessage` in the stand-in's journal
  (one channel per alert, the stand-in without rate limits). Issue 10: 38 s for 300; target:
  bounded by Slack's pace, not by Parley. The reference is the stand-in alone: the same number of
  `chat.postMessage` calls of the same message, sent straight to it at the same concurrency.

`python -m bench.intake [--alerts N] [--concurrency C] [--rounds R] [--quick]`
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bench.load import Burst, bare_starts, burst, make_alert, new_run_id
from bench.report import Figure, machine_note, parser_for, print_figures, run_main, spread
from bench.slack import BOT_TOKEN, alert_posts, slack_floor
from bench.stack import Stack, StackOptions
from parley.domain import AlertIn
from parley.slack.ui.alert import render_alert
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


@dataclass
class Round:
    bare_before: Burst
    intake: Burst
    bare_after: Burst
    posted: int  # alerts of this round seen posted in the journal
    posting: float  # seconds from the round's first POST to its last alert posted

    @property
    def bare_rate(self) -> float:
        return (self.bare_before.rate + self.bare_after.rate) / 2

    @property
    def ratio(self) -> float:
        return self.intake.rate / self.bare_rate


async def one_round(stack: Stack, n: int, c: int, saved: int) -> Round:
    """Bare starts, N alerts through the API and until posted, bare starts again."""
    run = new_run_id()
    bare_before = await bare_starts(stack.client, n, c)
    intake = await stack.post_alerts([make_alert(run, i) for i in range(n)], c)
    await stack.wait_copies(
        saved + intake.accepted, timeout=60 + 2 * n, what=f"{intake.accepted} alerts posted"
    )
    posts = alert_posts(await stack.slack.calls("chat.postMessage"))
    ours = [p.at for p in posts if p.alert_id.startswith(f"bench-{run}-")]
    posting = max(ours) - intake.started if ours else float("nan")
    bare_after = await bare_starts(stack.client, n, c)
    return Round(bare_before, intake, bare_after, len(ours), posting)


async def body(args: argparse.Namespace) -> None:
    n, c = args.alerts, args.concurrency
    rounds: list[Round] = []
    async with Stack(StackOptions(keep=args.keep)) as stack:
        # Warm up connections, imports and the first workflow tasks on both paths.
        warm = [make_alert(f"{new_run_id()}w", i) for i in range(WARM_UP)]
        await stack.post_alerts(warm, WARM_UP)
        await stack.wait_copies(WARM_UP, timeout=120, what="the warm-up alerts posted")
        await bare_starts(stack.client, c, c)
        for _ in range(args.rounds):
            rounds.append(await one_round(stack, n, c, await stack.copies_saved()))
        alone = await slack_alone(stack, n, c)

    # With several rounds, the figures are those of the round with the median ratio.
    r = sorted(rounds, key=lambda r: r.ratio)[len(rounds) // 2]
    notes = []
    if len(rounds) > 1:
        notes.append(f"{len(rounds)} rounds, ratios " + ", ".join(f"{x.ratio:.2f}" for x in rounds))
    print_figures(
        f"Intake: {n} alerts, {c} in flight (worker, API, dev server on SQLite, stand-in: "
        "no rate limits)",
        [
            Figure(
                "POST /alerts rate",
                f"{r.intake.rate:.1f}/s",
                "",
                f"bare start_workflow {r.bare_rate:.1f}/s "
                f"({r.bare_before.rate:.1f} before, {r.bare_after.rate:.1f} after)",
            ),
            Figure("intake / bare starts", f"{r.ratio:.2f}", ">= 0.9 (was 0.75)", "1.0"),
            Figure(
                "POST /alerts latency p50 / p99",
                spread(r.intake.latencies),
                "",
                f"bare start_workflow {spread(r.bare_before.latencies)}",
            ),
            Figure(
                f"{r.posted} alerts: first POST -> last posted",
                f"{r.posting:.1f} s ({r.posted / r.posting:.1f} alerts/s)",
                "Slack's pace (was 38 s)",
                f"stand-in alone {alone.wall:.1f} s ({alone.rate:.0f} posts/s)",
            ),
        ],
        [
            *notes,
            f"accepted {r.intake.accepted} of {n}; refused or failed: {r.intake.refused or 'none'}",
            f"real Slack would take >= {slack_floor(n):.0f} s for {n} posts in one channel "
            "(chat.postMessage ~1/s per channel, 300/min per workspace)",
            machine_note(),
        ],
    )


def main() -> None:
    parser = parser_for(__doc__)
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report the median round")
    args = parser.parse_args()
    if args.quick:
        args.alerts = min(args.alerts, 100)
    run_main("intake", args, body, budget=180 + 3 * args.alerts * args.rounds)


if __name__ == "__main__":
    main()
