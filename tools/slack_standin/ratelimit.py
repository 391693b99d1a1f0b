"""Token-bucket rate limits per method and workspace (and per channel for chat.postMessage).

Tiers follow docs.slack.dev/apis/web-api/rate-limits: 1/20/50/100 requests per minute, with
bursts of one minute's quota. chat.postMessage allows ~1 message per second per channel with
a small burst, under a workspace-wide ceiling of a few hundred per minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# tier -> (requests per minute, burst capacity)
TIERS: dict[str, tuple[float, float]] = {
    "1": (1, 1),
    "2": (20, 20),
    "3": (50, 50),
    "4": (100, 100),
    "special": (600, 100),  # auth.test, chat.getPermalink: "hundreds per minute"
}
POST_PER_CHANNEL = (60.0, 3.0)  # ~1/s per channel, burst of 3
POST_WORKSPACE = (300.0, 60.0)


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        enabled: bool = True,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.scale = scale
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], Bucket] = {}

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _take(self, key: tuple[str, ...], per_minute: float, burst: float, now: float) -> float:
        """Spend a token; 0 if allowed, else seconds until one is available."""
        rate = per_minute * self.scale / 60.0
        capacity = max(1.0, burst * self.scale)
        bucket = self._buckets.setdefault(key, Bucket(tokens=capacity, updated=now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def check(self, method: str, tier: str, channel: str | None = None) -> int | None:
        """None if the call may proceed, else the Retry-After value (whole seconds, >= 1)."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            if tier == "post":
                wait = self._take(("post", "workspace"), *POST_WORKSPACE, now)
                if not wait and channel:
                    wait = self._take(("post", channel), *POST_PER_CHANNEL, now)
            else:
                wait = self._take((method,), *TIERS[tier], now)
        if not wait:
            return None
        return max(1, math.ceil(wait))
