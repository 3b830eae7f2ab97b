"""Deterministic, time-ordered record ids for the demo data."""

from __future__ import annotations

import random
import uuid

# 2025-01-01T00:00:00Z in milliseconds: demo ids look like records created since then.
EPOCH_MS = 1_735_689_600_000


class IdMaker:
    """UUIDv7-shaped ids whose random bits come from the seeded RNG (same seed, same ids)."""

    def __init__(self, rng: random.Random, start_ms: int = EPOCH_MS) -> None:
        self._rng = rng
        self._ms = start_ms

    def __call__(self) -> uuid.UUID:
        self._ms += 1  # one id per millisecond keeps them sorted in creation order
        value = (self._ms & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76
        value |= self._rng.getrandbits(12) << 64
        value |= 0b10 << 62
        value |= self._rng.getrandbits(62)
        return uuid.UUID(int=value)
