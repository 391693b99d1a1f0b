"""A per-key TTL cache with single flight: a storm of lookups of one key loads it once.

Thread-safe, and usable from asyncio: concurrent callers of a key that is being loaded wait
on the same concurrent.futures.Future instead of loading again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class SingleFlightCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int = 10_000,
        ttl_for: Callable[[V], float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._ttl_for = ttl_for  # lets degraded answers expire sooner than good ones
        self._max = max(1, max_entries)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._inflight: dict[K, Future[V]] = {}
        self.loads = 0  # how many times a loader ran: what the storm tests count

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _claim(self, key: K) -> tuple[V | None, Future[V] | None, bool]:
        """(cached value, future to wait on, whether this caller must load)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                expires, value = entry
                if self._monotonic() < expires:
                    self._entries.move_to_end(key)
                    return value, None, False
                del self._entries[key]
            future = self._inflight.get(key)
            if future is not None:
                return None, future, False
            future = Future()
            self._inflight[key] = future
            self.loads += 1
            return None, future, True

    def _load(self, key: K, future: Future[V], loader: Callable[[], V]) -> None:
        """Run the loader and hand its outcome to every waiter (the owner included)."""
        try:
            value = loader()
        except BaseException as exc:
            with self._lock:
                self._inflight.pop(key, None)
            future.set_exception(exc)
            return
        with self._lock:
            self._inflight.pop(key, None)
            ttl = self._ttl_for(value) if self._ttl_for else self._ttl
            if ttl > 0:
                self._entries[key] = (self._monotonic() + ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        future.set_result(value)

    def get_or_load(self, key: K, loader: Callable[[], V]) -> V:
        cached, future, owner = self._claim(key)
        if future is None:
            return cached  # type: ignore[return-value]
        if owner:
            self._load(key, future, loader)
        return future.result()

    async def aget_or_load(self, key: K, loader: Callable[[], V]) -> V:
        """As get_or_load, with the (blocking) loader run in a worker thread.

        The load is not tied to the owner's task: cancelling that caller does not cancel
        the other waiters.
        """
        cached, future, owner = self._claim(key)
        if future is None:
            return cached  # type: ignore[return-value]
        if owner:
            asyncio.get_running_loop().run_in_executor(None, self._load, key, future, loader)
        return await asyncio.wrap_future(future)
