"""Hybrid logical clocks, encoded as strings that sort in causal-then-wall-clock order.

Format: ``"<unix milliseconds, 13 digits>-<counter, 5 digits>-<node>"``. Plain string comparison
orders two clocks; the node (a device or server id) breaks ties deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def encode(ms: int, counter: int, node: str) -> str:
    """Encode a clock reading."""
    return f"{ms:013d}-{counter:05d}-{node}"


def decode(value: str) -> tuple[int, int, str]:
    """Split an encoded clock into (milliseconds, counter, node); ValueError when malformed."""
    ms, counter, node = value.split("-", 2)
    if len(ms) != 13 or len(counter) != 5 or not node:
        raise ValueError(f"malformed hybrid logical clock: {value!r}")
    return int(ms), int(counter), node


def is_valid(value: str) -> bool:
    """True when ``value`` is a well-formed clock."""
    try:
        decode(value)
    except ValueError:
        return False
    return True


class Clock:
    """A thread-safe hybrid logical clock for one node."""

    def __init__(self, node: str, now_ms: Callable[[], int] | None = None) -> None:
        self.node = node
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()

    def tick(self) -> str:
        """A new reading for a local event."""
        with self._lock:
            now = self._now_ms()
            if now > self._ms:
                self._ms, self._counter = now, 0
            else:
                self._counter += 1
            return encode(self._ms, self._counter, self.node)

    def observe(self, remote: str) -> None:
        """Advance past a clock received from another node."""
        ms, counter, _node = decode(remote)
        with self._lock:
            if ms > self._ms or (ms == self._ms and counter > self._counter):
                self._ms, self._counter = ms, counter
