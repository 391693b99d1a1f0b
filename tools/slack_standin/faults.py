"""Fault injection: scripted errors, 429s, 5xx, latency and dropped connections."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Fault:
    method: str
    error: str | None = None
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    drop: bool = False
    after_effect: bool = False
    times: int | None = 1  # None = until reset/clear_faults

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.error is None and fault.status is None and fault.delay is None and not fault.drop:
            raise ValueError("a fault needs error, status, delay or drop")
        if fault.status is not None and not 400 <= fault.status <= 599:
            raise ValueError("fault status must be a 4xx or 5xx code")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str) -> Fault | None:
        """The first fault matching `method` (or "*"), counting one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, "*"):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]


FAULT_KEYS = {"method", "error", "status", "retry_after", "delay", "drop", "after_effect", "times"}


def fault_from_json(data: dict[str, Any]) -> Fault:
    unknown = set(data) - FAULT_KEYS
    if unknown or "method" not in data:
        raise ValueError(f"fault needs 'method'; unknown keys: {sorted(unknown)}")
    return Fault(**data)
