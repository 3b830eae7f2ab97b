"""Hybrid logical clocks, encoded as strings that sort in causal-then-wall-clock order.

Format: ``"<unix milliseconds, 13 digits>-<counter, 5 digits>-<node>"``. Plain string comparison
orders two clocks; the node (a device or server id) breaks ties deterministically. A counter
that would pass ``MAX_COUNTER`` carries into the milliseconds, so every reading sorts after the
one before it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

MAX_COUNTER = 99_999


def encode(ms: int, counter: int, node: str) -> str:
    """Encode a clock reading; ValueError when a part does not fit its digits."""
    if not 0 <= ms < 10**13 or not 0 <= counter <= MAX_COUNTER:
        raise ValueError(f"clock reading out of range: {ms}, {counter}")
    return f"{ms:013d}-{counter:05d}-{node}"


def decode(value: str) -> tuple[int, int, str]:
    """Split an encoded clock into (milliseconds, counter, node); ValueError when malformed."""
    ms, counter, node = value.split("-", 2)
    if len(ms) != 13 or len(counter) != 5 or not node or not (ms + counter).isdigit():
        raise ValueError(f"malformed hybrid logical clock: {value!r}")
    return int(ms), int(counter), node


def is_valid(value: str) -> bool:
    """True when ``value`` is a well-formed clock."""
    try:
        decode(value)
    except ValueError:
        return False
    return True


def clamp(value: str, limit_ms: int) -> str:
    """``value`` with its milliseconds lowered to ``limit_ms`` when it is later (counter and
    node kept): how a clock too far ahead of the receiver's time is bounded."""
    ms, counter, node = decode(value)
    return value if ms <= limit_ms else encode(max(limit_ms, 0), counter, node)


def process_node(prefix: str = "server") -> str:
    """A node id unique to this process (``server-<12 hex>``): two server processes never
    stamp the same reading."""
    return f"{prefix}-{secrets.token_hex(6)}"


class Clock:
    """A thread-safe hybrid logical clock for one node.

    ``max_ahead_ms``, when set, bounds what ``observe`` adopts: a remote reading more than that
    ahead of this node's wall clock is taken only up to the bound.
    """

    def __init__(
        self,
        node: str,
        now_ms: Callable[[], int] | None = None,
        max_ahead_ms: int | None = None,
    ) -> None:
        self.node = node
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self.max_ahead_ms = max_ahead_ms
        self._ms = 0
        self._counter = 0
        self._lock = threading.Lock()

    def physical_ms(self) -> int:
        """This node's wall clock, in unix milliseconds."""
        return self._now_ms()

    def tick(self) -> str:
        """A new reading for a local event, always after the previous one."""
        with self._lock:
            now = self._now_ms()
            if now > self._ms:
                self._ms, self._counter = now, 0
            elif self._counter < MAX_COUNTER:
                self._counter += 1
            else:  # the counter is full: carry into the time part
                self._ms, self._counter = self._ms + 1, 0
            return encode(self._ms, self._counter, self.node)

    def observe(self, remote: str) -> None:
        """Advance past a clock received from another node (at most ``max_ahead_ms`` ahead of
        this node's wall clock, when that is set)."""
        if self.max_ahead_ms is not None:
            remote = clamp(remote, self._now_ms() + self.max_ahead_ms)
        ms, counter, _node = decode(remote)
        with self._lock:
            if ms > self._ms or (ms == self._ms and counter > self._counter):
                self._ms, self._counter = ms, counter
