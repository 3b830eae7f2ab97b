"""Territory assignment rules: which territory (and rep) an account belongs to (pure, no I/O).

A rule tests one account field (a postal-code prefix, the city, the region, the segment, the
industry, the value tier) or the account's position (inside a polygon, within a radius of a
point). Rules are tried by ascending ``priority`` (ties by id, so the order is total); the first
rule that matches assigns. Text comparisons ignore case and surrounding space; postal codes also
ignore inner spaces (``"75 001"`` starts with ``"75"``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from protocol.entities.accounts import Segment, ValueTier
from rules.geo import is_valid_position, point_in_polygon, within_radius

MAX_RADIUS_M = 2_000_000.0  # 2,000 km: anything wider is a mistake, not a territory
MAX_POLYGON_VERTICES = 1000


class RuleKind(enum.StrEnum):
    POSTAL_PREFIX = "postal_prefix"
    CITY = "city"
    REGION = "region"
    SEGMENT = "segment"
    INDUSTRY = "industry"
    VALUE_TIER = "value_tier"
    POLYGON = "polygon"
    RADIUS = "radius"


class AssignmentCause(enum.StrEnum):
    """Why an account has its territory and owner."""

    RULE = "rule"  # an assignment rule matched (its id is recorded)
    MANUAL = "manual"  # a manager set it by hand: rules leave it alone
    DEFAULT = "default"  # no rule matched: what the creator gave


TEXT_KINDS = frozenset(
    {
        RuleKind.POSTAL_PREFIX,
        RuleKind.CITY,
        RuleKind.REGION,
        RuleKind.SEGMENT,
        RuleKind.INDUSTRY,
        RuleKind.VALUE_TIER,
    }
)
# the account fields each kind reads (an edit touching none of them cannot change a verdict)
RULE_FIELDS = frozenset(
    {"postal_code", "city", "region", "segment", "industry", "value_tier", "latitude", "longitude"}
)


@dataclass(frozen=True)
class AccountFacts:
    """The account fields the rules look at."""

    postal_code: str = ""
    city: str = ""
    region: str = ""
    segment: str = ""
    industry: str = ""
    value_tier: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class AssignmentRule:
    """One rule: when it matches, the account goes to ``territory_id`` (and ``owner_id``)."""

    id: str
    priority: int
    kind: RuleKind
    territory_id: str
    owner_id: str | None = None
    value: str = ""
    polygon: tuple[tuple[float, float], ...] = field(default=())
    center_latitude: float | None = None
    center_longitude: float | None = None
    radius_m: float | None = None


def _text(value: str) -> str:
    return value.strip().casefold()


def _postal(value: str) -> str:
    return "".join(value.split()).casefold()


def rule_matches(rule: AssignmentRule, account: AccountFacts) -> bool:
    """Does ``rule`` select ``account``? An empty field or a missing position never matches."""
    if rule.kind in TEXT_KINDS:
        wanted = _postal(rule.value) if rule.kind == RuleKind.POSTAL_PREFIX else _text(rule.value)
        if not wanted:
            return False
        if rule.kind == RuleKind.POSTAL_PREFIX:
            return _postal(account.postal_code).startswith(wanted)
        return _text(str(getattr(account, rule.kind.value))) == wanted
    lat, lon = account.latitude, account.longitude
    if lat is None or lon is None or not is_valid_position(lat, lon):
        return False
    if rule.kind == RuleKind.POLYGON:
        return point_in_polygon(lat, lon, rule.polygon)
    if rule.center_latitude is None or rule.center_longitude is None or rule.radius_m is None:
        return False
    return within_radius(lat, lon, rule.center_latitude, rule.center_longitude, rule.radius_m)


def ordered(rules: Iterable[AssignmentRule]) -> list[AssignmentRule]:
    """The rules in the order they are tried."""
    return sorted(rules, key=lambda r: (r.priority, r.id))


def first_match(rules: Iterable[AssignmentRule], account: AccountFacts) -> AssignmentRule | None:
    """The rule that assigns ``account`` (the first match by priority), or None."""
    for rule in ordered(rules):
        if rule_matches(rule, account):
            return rule
    return None


def rule_problem(
    kind: RuleKind,
    value: str,
    polygon: Sequence[Sequence[float]] | None,
    center: tuple[float | None, float | None],
    radius_m: float | None,
) -> tuple[str, str] | None:
    """``(field, why)`` when a rule's parameters do not fit its kind, or None when they do."""
    if kind in TEXT_KINDS:
        if not value.strip():
            return "value", f"a {kind.value} rule needs a value"
        allowed = _enum_values(kind)
        if allowed is not None and _text(value) not in allowed:
            return "value", f"value must be one of {', '.join(sorted(allowed))}"
        return None
    if kind == RuleKind.POLYGON:
        if polygon is None or not 3 <= len(polygon) <= MAX_POLYGON_VERTICES:
            return "polygon", f"a polygon needs 3 to {MAX_POLYGON_VERTICES} vertices"
        for vertex in polygon:
            if len(vertex) != 2 or not is_valid_position(float(vertex[0]), float(vertex[1])):
                return "polygon", "each vertex is a [latitude, longitude] position"
        return None
    lat, lon = center
    if lat is None or lon is None or not is_valid_position(lat, lon):
        return "center_latitude", "a radius rule needs a valid centre position"
    if radius_m is None or not math.isfinite(radius_m) or not 0 < radius_m <= MAX_RADIUS_M:
        return "radius_m", f"radius_m must be > 0 and <= {MAX_RADIUS_M:.0f}"
    return None


def _enum_values(kind: RuleKind) -> frozenset[str] | None:
    if kind == RuleKind.SEGMENT:
        return frozenset(s.value for s in Segment)
    if kind == RuleKind.VALUE_TIER:
        return frozenset(t.value for t in ValueTier)
    return None
