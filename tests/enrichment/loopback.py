"""A tiny HTTP server on 127.0.0.1 serving recorded answers, for Tor list and RDAP tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A route answers (status, headers, body); None means "never answer" (a hung server).
Reply = tuple[int, dict[str, str], bytes] | None
Route = Callable[[str], Reply]


@dataclass
class Loopback:
    base_url: str
    routes: dict[str, Route]
    hits: list[str] = field(default_factory=list)
    # Hung handlers wait on this; set on shutdown so no thread outlives the test for long.
    release: threading.Event = field(default_factory=threading.Event)

    def route(self, path: str, reply: Reply | Route) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _path, r=reply: r)


@contextmanager
def loopback_server() -> Iterator[Loopback]:
    state = Loopback(base_url="", routes={})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            route = state.routes.get(self.path)
            if route is None:
                prefix = next(
                    (p for p in state.routes if p.endswith("*") and self.path.startswith(p[:-1])),
                    None,
                )
                route = state.routes.get(prefix) if prefix else None
            reply = route(self.path) if route else (404, {}, b'{"errorCode": 404}')
            if reply is None:
                state.release.wait(timeout=10)
                return
            status, headers, body = reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
