"""The ``visit`` record and the parameters of its actions."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import msgspec

from protocol.entities.definition import ENGINE_FIELDS, EntityDef
from protocol.entities.fields import AwareDateTime, Latitude, Longitude, Meters, Notes, Reason

CHECK_FIELDS = ("at", "latitude", "longitude", "accuracy_m", "distance_m", "flagged")


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CheckInVerdict(enum.StrEnum):
    """Where the check-in was, given the phone's accuracy (``rules.geo.checkin_verdict``)."""

    INSIDE = "inside"  # the whole accuracy circle is within the radius
    OUTSIDE = "outside"  # the whole accuracy circle is beyond it
    UNCERTAIN = "uncertain"  # the accuracy circle straddles the radius


class MakeupReason(enum.StrEnum):
    """Why a check-in is made up (补签): entered after the fact, or outside the radius."""

    GEO_ANOMALY = "geo_anomaly"  # the phone's position is wrong (indoors, no fix, drift)
    MISSED_TIME = "missed_time"  # the rep forgot to check in at the time
    DEVICE_FAULT = "device_fault"  # the phone was broken, flat or offline at the time
    PLAN_CHANGED = "plan_changed"  # the customer met the rep elsewhere or the plan moved


class Approval(enum.StrEnum):
    """A manager's decision on a make-up check-in; the visit counts when none was needed or
    once approved."""

    NONE = "none"  # not a make-up
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class VisitRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A visit on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    planned_at: AwareDateTime | None = None
    status: VisitStatus = VisitStatus.PLANNED
    check_in_at: AwareDateTime | None = None
    check_in_latitude: float | None = None
    check_in_longitude: float | None = None
    check_in_accuracy_m: float | None = None
    check_in_distance_m: float | None = None
    check_in_flagged: bool = False
    check_in_verdict: CheckInVerdict | None = None
    check_in_radius_m: float | None = None
    makeup_reason: MakeupReason | None = None
    makeup_note: Reason = ""
    approval: Approval = Approval.NONE
    approval_note: Reason = ""
    decided_by: uuid.UUID | None = None
    decided_at: AwareDateTime | None = None
    check_out_at: AwareDateTime | None = None
    check_out_latitude: float | None = None
    check_out_longitude: float | None = None
    check_out_accuracy_m: float | None = None
    check_out_distance_m: float | None = None
    check_out_flagged: bool = False
    notes: Notes = ""
    outcome: Reason = ""
    next_follow_up_on: dt.date | None = None
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None


class PositionParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where and when, as the phone reported it (check-in and check-out)."""

    at: AwareDateTime
    latitude: Latitude
    longitude: Longitude
    accuracy_m: Meters | None = None


class CheckInParams(PositionParams, kw_only=True):
    """``visit.check_in``: the arrival; a make-up check-in (after the fact or outside the
    radius) carries its reason and goes to the manager (docs/visits.md)."""

    makeup_reason: MakeupReason | None = None
    makeup_note: Reason | None = None


class CheckOutParams(PositionParams, kw_only=True):
    """``visit.check_out``: the departure, and optionally the visit's result."""

    outcome: Reason | None = None
    notes: Notes | None = None
    next_follow_up_on: dt.date | None = None


class CancelParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``visit.cancel`` (and ``order.cancel``) take an optional reason, appended to the notes."""

    reason: Reason | None = None


# status and every check-in/out field change only through the actions
VISIT = EntityDef(
    name="visit",
    record=VisitRecord,
    deletable_from=frozenset({VisitStatus.PLANNED.value}),  # a check-in is field evidence
    server_fields=ENGINE_FIELDS
    | {"status"}
    | {f"check_in_{name}" for name in (*CHECK_FIELDS, "verdict", "radius_m")}
    | {"makeup_reason", "makeup_note", "approval", "approval_note", "decided_by", "decided_at"}
    | {f"check_out_{name}" for name in CHECK_FIELDS},
    actions={"check_in": CheckInParams, "check_out": CheckOutParams, "cancel": CancelParams},
)
