"""Benchmark 4, open alerts: worker memory per open alert, in and beyond its cache.

N alerts (default 10,000) are opened through POST /alerts, one channel each, and left open. The
worker keeps at most C workflows in memory (TEMPORAL_MAX_CACHED_WORKFLOWS, default here
min(1000, N/2)); older ones are evicted and replayed from their history when touched again.
Measured once all alerts of a stage are posted and the worker is idle:
- the worker's RSS (/proc/<pid>/status of `python worker.py`) at C open alerts (all cached) and at
  checkpoints up to N (beyond the cache): KB per open alert in each range;
- the Temporal dev server's on-disk database size (and its RSS, for orientation);
- a click (Update Status -> Triaged) on alerts still in the cache, then on the oldest, evicted
  ones: click -> chat.update, the replay cost.

Issue 10: ~246 KB per open alert while cached; target <= 100 KB, and flat beyond the cache.

`python -m bench.open_alerts [--open-alerts N] [--cache C] [--quick]`
The full size takes about as long as posting N alerts (tens of minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from bench.load import make_alert, new_run_id
from bench.report import Figure, machine_note, ms, parser_for, pct, print_figures, run_main
from bench.slack import Posted, triage, update_times
from bench.stack import Stack, StackOptions

WARM_UP = 20
CHECKPOINTS_BEYOND = 3


@dataclass(frozen=True)
class Sample:
    alerts: int  # open alerts, all posted
    worker_kb: int  # worker RSS
    server_kb: int  # Temporal dev server RSS
    db_bytes: int  # Temporal's on-disk database


async def sample_clicks(stack: Stack, posts: list[Posted]) -> tuple[list[float], list[float]]:
    """One click at a time on an idle worker: (acks, click -> chat.update)."""
    acks, updates = [], []
    for post in posts:
        click = await triage(stack.slack, post)
        [updated] = await update_times(stack.slack, [post], [click], timeout=60)
        acks.append(click.ack)
        updates.append(updated - click.sent_at)
        await asyncio.sleep(1.0)  # the thread replies follow; let the worker go idle again
    return acks, updates


async def body(args: argparse.Namespace) -> None:
    n, cache, k = args.open_alerts, args.cache, args.sample_clicks
    opts = StackOptions(max_cached_workflows=cache, keep=args.keep)
    rows: list[Sample] = []
    async with Stack(opts) as stack:
        run = new_run_id()
        alerts = [make_alert(run, i) for i in range(n)]
        stages = [WARM_UP, cache]
        step = (n - cache) / CHECKPOINTS_BEYOND
        stages += [round(cache + step * i) for i in range(1, CHECKPOINTS_BEYOND + 1)]
        opened = expected = 0
        for upto in sorted(set(stages)):
            # A few alerts at a time, each batch posted before the next: alerts trickle in, so
            # RSS shows what open alerts keep, not the peak of a burst in progress.
            while opened < upto:
                batch = alerts[opened : min(upto, opened + args.batch)]
                intake = await stack.post_alerts(batch, args.batch)
                expected += intake.accepted
                await stack.wait_copies(
                    expected, timeout=120 + 2 * len(batch), what=f"{expected} alerts posted"
                )
                opened += len(batch)
            await asyncio.sleep(3)  # the last workflow tasks after the store write
            rows.append(
                Sample(
                    expected,
                    stack.worker.rss_kb(),
                    stack.temporal.rss_kb(),
                    stack.temporal_db_bytes(),
                )
            )
            print(f"  {expected} open alerts: worker RSS {rows[-1].worker_kb / 1024:.1f} MB")

        newest = [await stack.saved_copy(a["id"]) for a in alerts[-k:]]
        oldest = [await stack.saved_copy(a["id"]) for a in alerts[:k]]
        cached_acks, cached_updates = await sample_clicks(stack, newest)
        evicted_acks, evicted_updates = await sample_clicks(stack, oldest)

    base, at_cache, last = rows[0], rows[1], rows[-1]
    per_cached = (at_cache.worker_kb - base.worker_kb) / max(1, at_cache.alerts - base.alerts)
    per_beyond = (last.worker_kb - at_cache.worker_kb) / max(1, last.alerts - at_cache.alerts)
    db_per_alert = last.db_bytes / max(1, last.alerts) / 1024
    server_per_alert = (last.server_kb - base.server_kb) / max(1, last.alerts - base.alerts)
    series = ", ".join(f"{r.alerts}: {r.worker_kb / 1024:.0f} MB" for r in rows)
    print_figures(
        f"Open alerts: {n} (one channel each), worker cache {cache} workflows",
        [
            Figure(
                f"worker RSS per open alert, cached ({base.alerts}->{at_cache.alerts})",
                f"{per_cached:.0f} KB",
                "<= 100 KB (was ~246 KB)",
                f"worker at {base.alerts} alerts: {base.worker_kb / 1024:.0f} MB",
            ),
            Figure(
                f"worker RSS per open alert, beyond ({at_cache.alerts}->{last.alerts})",
                f"{per_beyond:.1f} KB",
                "flat (~0)",
                f"cached: {per_cached:.0f} KB per alert",
            ),
            Figure(
                f"Temporal db on disk at {last.alerts} open alerts",
                f"{last.db_bytes / 2**20:.0f} MB ({db_per_alert:.1f} KB per alert)",
                "",
                f"server RSS {last.server_kb / 1024:.0f} MB ({server_per_alert:.0f} KB per alert)",
            ),
            Figure(
                "click on an evicted alert: -> chat.update",
                f"{ms(pct(evicted_updates, 50))} (max {ms(max(evicted_updates))})",
                "",
                f"cached alert {ms(pct(cached_updates, 50))} (max {ms(max(cached_updates))})",
            ),
            Figure(
                "  its ack",
                f"{ms(pct(evicted_acks, 50))}",
                "",
                f"cached alert {ms(pct(cached_acks, 50))}",
            ),
        ],
        [
            f"worker RSS by open alerts: {series}",
            f"clicks: p50 (and max) of {k} single clicks each; evicted = the {k} oldest alerts",
            machine_note(),
        ],
    )


def main() -> None:
    parser = parser_for(__doc__)
    parser.add_argument("--open-alerts", type=int, default=10_000)
    parser.add_argument("--cache", type=int, default=None, help="default: min(1000, N/2)")
    parser.add_argument("--sample-clicks", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20, help="alerts opened at a time")
    args = parser.parse_args()
    if args.quick:
        args.open_alerts = min(args.open_alerts, 300)
    args.open_alerts = max(args.open_alerts, 4 * WARM_UP)
    if args.cache is None:
        args.cache = min(1000, args.open_alerts // 2)
    args.cache = min(max(args.cache, 2 * WARM_UP), args.open_alerts - CHECKPOINTS_BEYOND)
    run_main("open_alerts", args, body, budget=600 + 2.0 * args.open_alerts)


if __name__ == "__main__":
    main()
