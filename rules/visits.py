"""When a visit happened: the bounds of a check-in time, and when it is a make-up (pure).

The server refuses what ``check_in_time_problem`` names and asks a reason when
``needs_makeup`` says so; the SDK runs the same functions to warn the rep before syncing.
"""

from __future__ import annotations

import datetime as dt

from protocol import errors as codes
from protocol.entities.visits import Approval, CheckInVerdict, VisitStatus


def check_in_time_problem(
    at: dt.datetime,
    *,
    now: dt.datetime,
    planned_at: dt.datetime | None,
    max_skew: dt.timedelta,
    early: dt.timedelta,
) -> tuple[str, str] | None:
    """(code, message) when a check-in time cannot be true, else None.

    In the future beyond the allowed clock skew (``time_in_future``); earlier than ``early``
    before the planned time (``before_plan``: that would be another visit than the one planned).
    """
    if at > now + max_skew:
        return codes.TIME_IN_FUTURE, "the time is in the future"
    if planned_at is not None and at < planned_at - early:
        return codes.BEFORE_PLAN, "the check-in is before the visit was planned for"
    return None


def is_after_the_fact(at: dt.datetime, recorded_at: dt.datetime, late_after: dt.timedelta) -> bool:
    """True when the check-in was entered later than ``late_after`` after the time it claims
    (``recorded_at``: when the phone recorded the action, by its clock)."""
    return recorded_at - at > late_after


def needs_makeup(
    verdict: CheckInVerdict | None,
    at: dt.datetime,
    recorded_at: dt.datetime,
    late_after: dt.timedelta,
) -> bool:
    """A make-up check-in (补签): entered after the fact, or outside the radius. It needs a reason
    and a manager's approval before the visit counts."""
    return verdict is CheckInVerdict.OUTSIDE or is_after_the_fact(at, recorded_at, late_after)


def visit_counts(status: str, approval: str) -> bool:
    """A visit counts (compliance, the rhythm of visits) once it happened and, if it was a
    make-up, once a manager approved it."""
    happened = status in (VisitStatus.CHECKED_IN, VisitStatus.COMPLETED)
    return happened and approval in (Approval.NONE, Approval.APPROVED)
