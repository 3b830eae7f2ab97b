"""Pure calendar rules."""

from __future__ import annotations

from collections.abc import Sequence

# the most reminders one event keeps (the record type refuses more)
from protocol.entities.calendar import MAX_REMINDERS

__all__ = ["MAX_REMINDERS", "union_of_reminders"]


def union_of_reminders(yours: Sequence[int] | None, theirs: Sequence[int] | None) -> list[int]:
    """Reminders set on two sides at once: every offset either side asked for, soonest first,
    at most ``MAX_REMINDERS`` (the ones nearest the event kept). Nobody's reminder is lost to a
    concurrent edit."""
    return sorted(set(yours or ()) | set(theirs or ()))[:MAX_REMINDERS]
