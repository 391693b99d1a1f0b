"""`python -m bench [--quick] [name ...]`: run the benchmarks one after another (`make bench`).

Each runs in its own process with its own stack and prints its figures beside their targets and
references. --quick passes small sizes to each (the set then takes about 7 minutes instead of
an hour); names pick a subset. Exits non-zero if any benchmark failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Cheap ones first, so a broken stack shows in seconds, not after the long runs.
BENCHMARKS = ["history_events", "intake", "clicks", "enrichment_lookup", "open_alerts", "storm"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: minutes, not hours")
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
    chosen = args.names or BENCHMARKS
    failed: list[str] = []
    started = time.monotonic()
    for name in chosen:
        print(f"\n##### bench.{name}{' --quick' if args.quick else ''}", flush=True)
        cmd = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        if subprocess.run(cmd, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{len(chosen)} benchmarks in {minutes:.1f} min; failed: {', '.join(failed) or 'none'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
