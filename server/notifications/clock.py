"""The scheduler's clock behind a small protocol, so tests can freeze or shift time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from server.settings import Settings


class Clock(Protocol):
    """Tells the time (timezone-aware UTC)."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real time, optionally shifted by ``offset``."""

    def __init__(self, offset: dt.timedelta = dt.timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class FixedClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        """Move the time forward by ``timedelta(**delta)``; the new time."""
        self.at += dt.timedelta(**delta)
        return self.at


def clock_from_settings(settings: Settings) -> Clock:
    """Frozen at ``clock_frozen_at`` when set, else the system clock shifted by
    ``clock_offset_seconds`` (both for tests that run the scheduler in a subprocess)."""
    if settings.clock_frozen_at:
        frozen = dt.datetime.fromisoformat(settings.clock_frozen_at)
        if frozen.tzinfo is None:
            raise ValueError("OUTPOST_CLOCK_FROZEN_AT needs a time zone offset")
        return FixedClock(frozen.astimezone(dt.UTC))
    return SystemClock(dt.timedelta(seconds=settings.clock_offset_seconds))
