"""Benchmarks 2 and 3, clicks: how fast Slack gets its answer, and how fast the message changes.

A click is Update Status -> Triaged on an alert message, sent by the stand-in's driver exactly as
Slack sends it (signed block_actions). Measured on the same clicks:
- ack: from the signed request sent to the API's answer (Slack gives up after 3 s);
- click -> `chat.update`: from the request sent to the stand-in receiving the `chat.update` of
  that message (both on the stand-in's clock).
Three rounds, each on its own alerts: single clicks on an idle stack (the reference), N
concurrent clicks (default 50) with the worker up, and N concurrent clicks with the worker
stopped (acks only; then the worker is restarted and the backlog's catch-up is timed).

Issue 10: idle ack 17-24 ms, click -> update 123-133 ms (keep); 50 concurrent: ack p50/p99
245/314-417 ms (target p99 < 200 ms), click -> update p50/p99 3.2/4.1 s (target < 250 ms / < 1 s).

`python -m bench.clicks [--clicks N] [--idle-clicks N] [--quick]`
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.load import make_alert, new_run_id, wait_until
from bench.report import Figure, machine_note, ms, parser_for, pct, print_figures, run_main, spread
from bench.slack import Posted, alert_posts, triage, update_times
from bench.stack import Stack, StackOptions


async def replied(stack: Stack, post: Posted) -> bool:
    """The change's reply is in the message's thread: the workflow is done with the click."""
    calls = await stack.slack.calls("chat.postMessage")
    return any(c.ok and c.thread_ts == post.ts for c in calls)


async def body(args: argparse.Namespace) -> None:
    n, idle = args.clicks, args.idle_clicks
    async with Stack(StackOptions(keep=args.keep)) as stack:
        run = new_run_id()
        alerts = [make_alert(run, i) for i in range(idle + 2 * n)]
        await stack.post_alerts(alerts, 20)
        await stack.wait_copies(len(alerts), timeout=120 + 2 * len(alerts), what="alerts posted")
        by_alert = {p.alert_id: p for p in alert_posts(await stack.slack.calls("chat.postMessage"))}
        posts = [by_alert[a["id"]] for a in alerts]
        singles, up, down = posts[:idle], posts[idle : idle + n], posts[idle + n :]
        await asyncio.sleep(2)  # let the posting's last workflow tasks finish: an idle stack

        idle_acks, idle_updates = [], []
        for post in singles:
            click = await triage(stack.slack, post)
            [updated] = await update_times(stack.slack, [post], [click], timeout=30)
            idle_acks.append(click.ack)
            idle_updates.append(updated - click.sent_at)
            await wait_until(lambda p=post: replied(stack, p), timeout=30, what="the reply")
            await asyncio.sleep(0.5)

        up_clicks = list(await asyncio.gather(*(triage(stack.slack, p) for p in up)))
        up_times = await update_times(stack.slack, up, up_clicks, timeout=60 + n)
        up_updates = [t - c.sent_at for t, c in zip(up_times, up_clicks, strict=True)]

        await stack.stop_worker()
        down_clicks = list(await asyncio.gather(*(triage(stack.slack, p) for p in down)))
        restarted = time.time()
        await stack.start_worker()
        down_times = await update_times(stack.slack, down, down_clicks, timeout=120 + n)
        catch_up = max(down_times) - restarted

    up_span = max(up_times) - min(c.sent_at for c in up_clicks)
    every = [*up_clicks, *down_clicks]
    late = sum(1 for c in every if c.ack >= 3.0)
    refused = sum(1 for c in every if c.status != 200)
    idle_ref = f"idle click {ms(pct(idle_acks, 50))}"
    print_figures(
        f"Clicks: {idle} idle single clicks, then {n} concurrent clicks on {n} alerts with the "
        "worker up, then with it down",
        [
            Figure(
                "idle click: ack / click -> chat.update",
                f"{ms(pct(idle_acks, 50))} / {ms(pct(idle_updates, 50))}",
                "keep (was 17-24 / 123-133 ms)",
                f"p50 of {idle}; max {ms(max(idle_acks))} / {ms(max(idle_updates))}",
            ),
            Figure(
                f"{n} concurrent, worker up: ack p50 / p99",
                spread([c.ack for c in up_clicks]),
                "p99 < 200 ms (was 245 / 314-417 ms)",
                idle_ref,
            ),
            Figure(
                f"{n} concurrent, worker down: ack p50 / p99",
                spread([c.ack for c in down_clicks]),
                "p99 < 200 ms",
                idle_ref,
            ),
            Figure(
                f"{n} concurrent: click -> chat.update p50 / p99",
                spread(up_updates),
                "< 250 ms / < 1 s (was 3.2 / 4.1 s)",
                f"idle click {ms(pct(idle_updates, 50))}",
            ),
            Figure(
                f"worker restarted: {n} queued clicks shown",
                f"{catch_up:.1f} s after the restart",
                "",
                f"{n} clicks with the worker up: {up_span:.1f} s",
            ),
        ],
        [
            f"acks over Slack's 3 s: {late}; answers other than 200: {refused} "
            f"(of {len(every)} clicks)",
            "p99 of 50 values is the slowest one",
            machine_note(),
        ],
    )


def main() -> None:
    parser = parser_for(__doc__)
    parser.add_argument("--clicks", type=int, default=50, help="concurrent clicks per round")
    parser.add_argument("--idle-clicks", type=int, default=5, help="single clicks (reference)")
    args = parser.parse_args()
    if args.quick:
        args.idle_clicks = min(args.idle_clicks, 3)
    run_main("clicks", args, body, budget=300 + 4 * (args.idle_clicks + 2 * args.clicks))


if __name__ == "__main__":
    main()
