"""Ports for tests that restart a server on the same port."""

from __future__ import annotations

import random
import socket


def restartable_port() -> int:
    """A free port below the kernel's ephemeral range (32768 and up), where no outgoing
    connection can take it between the first start and the restart on the same port."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-31999")
