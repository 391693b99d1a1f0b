"""Printing figures beside their targets and references, and running a benchmark in bounds."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    measured: str
    target: str = ""
    reference: str = ""  # measured in the same run


def print_figures(title: str, figures: Sequence[Figure], notes: Sequence[str] = ()) -> None:
    widths = (
        max(len("figure"), *(len(f.name) for f in figures)),
        max(len("measured"), *(len(f.measured) for f in figures)),
        max(len("target"), *(len(f.target) for f in figures)),
    )

    def row(*cells: str) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, (*widths, 0), strict=True)).rstrip()

    print(f"\n== {title}")
    print(row("figure", "measured", "target", "reference (same run)"))
    print(row(*("-" * w for w in widths), "-" * 20))
    for f in figures:
        print(row(f.name, f.measured, f.target, f.reference))
    for note in notes:
        print(f"  * {note}")
    sys.stdout.flush()


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 50 values is the largest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def spread(values: Sequence[float]) -> str:
    """p50 / p99 in ms."""
    return f"{ms(pct(values, 50))} / {ms(pct(values, 99))}"


def machine_note() -> str:
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1/5/15 min) at the end; figures are noisy when others share it"
    )


# ---- running a benchmark ------------------------------------------------------------------------


def parser_for(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a run of minutes")
    parser.add_argument("--keep", action="store_true", help="keep logs and databases afterwards")
    return parser


def run_main(
    name: str,
    args: argparse.Namespace,
    body: Callable[[argparse.Namespace], Awaitable[None]],
    budget: float,
) -> None:
    """Run `body` within `budget` seconds; Ctrl-C or SIGTERM stop it cleanly (the stack's
    processes are stopped either way)."""

    async def guarded() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        async with asyncio.timeout(budget):
            await body(args)

    started = time.monotonic()
    try:
        asyncio.run(guarded())
    except TimeoutError as exc:
        print(f"{name}: stopped, over its time budget of {budget:.0f} s ({exc})", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"{name}: interrupted", file=sys.stderr)
        sys.exit(130)
    print(f"({name} took {time.monotonic() - started:.0f} s)", flush=True)
