"""UUIDv7 ids: time-ordered, so devices can create records offline and indexes stay compact."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = 0  # the last id made from the clock, as an int


def uuid7(unix_ms: int | None = None) -> uuid.UUID:
    """A RFC 9562 version 7 UUID: 48-bit milliseconds, then random bits.

    Ids made from the clock are monotonic within the process (RFC 9562 section 6.2, method 2):
    one made in the same millisecond as the last one (or after the clock stepped back) is the
    last one plus a random increment (1 to 2^32), so records created one after the other sort
    in creation order and the next id still cannot be guessed from the last one.
    """
    global _last
    ms = time.time_ns() // 1_000_000 if unix_ms is None else unix_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68 & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    if unix_ms is None:
        with _lock:
            if value <= _last:
                value = _next_after(_last, 1 + int.from_bytes(os.urandom(4), "big"))
            _last = value
    return uuid.UUID(int=value)


def _next_after(value: int, step: int = 1) -> int:
    """The version-7 value ``step`` after ``value`` (the version and variant bits kept)."""
    rand_b = (value & ((1 << 62) - 1)) + step
    rand_a = (value >> 64) & 0xFFF
    ms = value >> 80
    if rand_b >> 62:  # rand_b overflowed: carry into rand_a, then into the timestamp
        rand_b &= (1 << 62) - 1
        rand_a += 1
        if rand_a >> 12:
            rand_a = 0
            ms += 1
    return (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
