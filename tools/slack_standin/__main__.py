"""`python -m slack_standin`: run the stand-in for the local stack until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from .standin import StandIn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.slack_standin", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3100, help="0 picks a free port")
    p.add_argument("--workspace", default=None, help="YAML/JSON seed (default: shipped one)")
    p.add_argument("--signing-secret", default="parley-dev-signing-secret")
    p.add_argument("--bot-token", default="xoxb-standin-token")
    p.add_argument("--interactivity-url", default=None)
    p.add_argument("--events-url", default=None, help="the app's Events API request URL")
    p.add_argument(
        "--socket-mode", action="store_true", help="deliver over Socket Mode, not request URLs"
    )
    p.add_argument("--no-rate-limits", action="store_true")
    p.add_argument("--trigger-ttl", type=float, default=3.0, help="trigger_id lifetime, seconds")
    p.add_argument(
        "--state-file",
        default=None,
        help="keep messages, threads and views in this JSON file across restarts",
    )
    return p.parse_args(argv)


def from_args(args: argparse.Namespace) -> StandIn:
    """The stand-in these flags describe (also used by bench/standin_server.py)."""
    standin = StandIn(
        workspace_path=args.workspace,
        signing_secret=args.signing_secret,
        bot_token=args.bot_token,
        interactivity_url=args.interactivity_url,
        rate_limits=not args.no_rate_limits,
        trigger_ttl_seconds=args.trigger_ttl,
        host=args.host,
        port=args.port,
    )
    standin.events.events_url = args.events_url
    standin.socket_mode.enabled = args.socket_mode
    return standin


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    standin = from_args(args)
    persistence = None
    if args.state_file:
        from .persist import Persistence

        persistence = Persistence(standin.workspace, args.state_file)
        persistence.load()
        persistence.start()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    standin.start()
    print(standin.base_url, flush=True)
    if args.socket_mode:
        print(f"Socket Mode app token: {standin.socket_mode.app_token}", flush=True)
    print(f"workspace view: {standin.url}/", flush=True)
    try:
        stop.wait()
    finally:
        standin.stop()
        if persistence is not None:
            persistence.stop()


if __name__ == "__main__":
    main()
