"""Benchmark 6, storm: N alerts of one rule into one channel at Slack's real pace.

The stand-in enforces Slack's rate limits here (chat.postMessage ~1/s per channel with a burst
of 3, 300/min per workspace; conversations.history 50/min), answering 429 + Retry-After. N alerts
(default 1,000) of one rule arrive through POST /alerts, 20 in flight, all routed to #alerts.
Measured when every accepted alert has been posted (or at the deadline):
- lost and duplicated alerts: top-level messages per alert id, read from the channel's message
  metadata in the stand-in (0 and 0 is the target);
- the messages the channel received (top level and in threads), the 429s in the stand-in's
  journal by method, and the time from the first POST until the last alert was posted.
The reference is Slack's own pace: the floor the stand-in's limits set for N posts in one channel,
and a well-behaved client measured in the same run (slack_sdk honouring Retry-After, posting
straight to the stand-in after the storm).

`python -m bench.storm [--storm N] [--deadline SECONDS] [--quick]`
The full size takes at least N seconds (Slack's pace), about 20 minutes for 1,000.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bench.load import make_alert, new_run_id
from bench.report import Figure, machine_note, parser_for, print_figures, run_main
from bench.slack import BOT_TOKEN, alert_posts, metadata_of, slack_floor
from bench.stack import Stack, StackOptions

CHANNEL = "C0ALERTS"
PROBE_POSTS = 15


async def polite_client_rate(stack: Stack) -> float:
    """Posts per second of a client that waits out every 429 (another channel, same limits)."""
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=f"{stack.standin_url}/api/",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=100)],
    )
    t0 = time.perf_counter()
    for i in range(PROBE_POSTS):
        await client.chat_postMessage(channel="C0CRIT", text=f"probe {i}")
    return PROBE_POSTS / (time.perf_counter() - t0)


def per_alert(messages: list[dict[str, Any]], run: str) -> Counter[str]:
    return Counter(
        alert
        for m in messages
        if (alert := metadata_of(m).get("alert")) and str(alert).startswith(f"bench-{run}-")
    )


async def body(args: argparse.Namespace) -> None:
    n = args.storm
    deadline = args.deadline or 2 * slack_floor(n) + 300
    opts = StackOptions(rate_limits=True, storms=args.digest, keep=args.keep)
    async with Stack(opts) as stack:
        run = new_run_id()
        alerts = [make_alert(run, i, rule_id="Bench.Storm") for i in range(n)]
        intake = await stack.post_alerts(alerts, 20)
        accepted = intake.accepted
        caught_up = True
        try:
            await stack.wait_copies(accepted, timeout=deadline, what="the storm posted")
        except TimeoutError:
            caught_up = False
        saved = await stack.copies_saved()
        messages = await stack.slack.messages(CHANNEL)
        calls = await stack.slack.calls(None)
        polite = await polite_client_rate(stack)
        standin_mb = stack.procs["standin"].rss_kb() / 1024

    counts = per_alert(messages, run)
    lost = accepted - len(counts)
    duplicated = sum(1 for c in counts.values() if c > 1)
    replies = sum(len(m.get("replies") or []) for m in messages)
    first_posts: dict[str, float] = {}
    for p in alert_posts(c for c in calls if c.method == "chat.postMessage"):
        if p.channel == CHANNEL and p.alert_id.startswith(f"bench-{run}-"):
            first_posts.setdefault(p.alert_id, p.at)
    took = max(first_posts.values()) - intake.started if first_posts else float("nan")
    limited = Counter(c.method for c in calls if c.status == 429)
    floor = slack_floor(n)
    status = "caught up" if caught_up else f"NOT caught up after {deadline:.0f} s"
    print_figures(
        f"Storm: {n} alerts of one rule into one channel, Slack's rate limits on ({status})",
        [
            Figure("lost alerts", str(lost), "0", f"{accepted} accepted of {n}"),
            Figure("duplicated alerts", str(duplicated), "0", f"{sum(counts.values())} posts"),
            Figure(
                "messages the channel received",
                f"{len(messages)} top level + {replies} in threads",
                f"{accepted} top level",
                f"{saved} copies in the console store",
            ),
            Figure(
                "429s in the stand-in's journal",
                str(sum(limited.values())),
                "few (pace, don't bounce)",
                ", ".join(f"{m} {c}" for m, c in limited.most_common()) or "none",
            ),
            Figure(
                "first POST -> last alert posted",
                f"{took:.0f} s ({len(first_posts) / took:.2f} posts/s)",
                f"~ Slack's pace (>= {floor:.0f} s)",
                f"polite client {polite:.2f} posts/s ({PROBE_POSTS} posts)",
            ),
        ],
        [
            f"intake: {intake.rate:.1f} alerts/s; outcomes {dict(intake.outcomes)}",
            f"stand-in RSS at the end: {standin_mb:.0f} MB (it journals every call)",
            machine_note(),
        ],
    )


def main() -> None:
    parser = parser_for(__doc__)
    parser.add_argument("--storm", type=int, default=1000)
    parser.add_argument("--deadline", type=float, default=None, help="give up waiting after")
    parser.add_argument(
        "--digest",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="storm digests on (past 20 alerts of the rule the rest join one message); the "
        "lost/duplicated accounting counts one message per alert, so it is off by default",
    )
    args = parser.parse_args()
    if args.quick:
        args.storm = min(args.storm, 100)
    budget = (args.deadline or 2 * slack_floor(args.storm) + 300) + 300 + args.storm
    run_main("storm", args, body, budget=budget)


if __name__ == "__main__":
    main()
