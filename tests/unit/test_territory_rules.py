"""rules.territory_rules and the territory geometry of rules.geo: first match by priority."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.geo import point_in_polygon, within_radius
from rules.territory_rules import (
    AccountFacts,
    AssignmentRule,
    RuleKind,
    first_match,
    rule_matches,
    rule_problem,
)

# a square around central Paris (lat 48.80..48.90, lon 2.25..2.45)
PARIS_SQUARE = ((48.80, 2.25), (48.80, 2.45), (48.90, 2.45), (48.90, 2.25))


def rule(kind: RuleKind, priority: int = 10, rid: str = "r", **kw: object) -> AssignmentRule:
    return AssignmentRule(id=rid, priority=priority, kind=kind, territory_id="t-" + rid, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "facts", "expected"),
    [
        (RuleKind.POSTAL_PREFIX, "75", AccountFacts(postal_code="75001"), True),
        (RuleKind.POSTAL_PREFIX, "75 0", AccountFacts(postal_code=" 7500 1"), True),
        (RuleKind.POSTAL_PREFIX, "75", AccountFacts(postal_code="69001"), False),
        (RuleKind.POSTAL_PREFIX, "75", AccountFacts(postal_code=""), False),
        (RuleKind.CITY, "Lyon", AccountFacts(city=" lyon "), True),
        (RuleKind.CITY, "Lyon", AccountFacts(city="Lyons"), False),
        (RuleKind.REGION, "Île-de-France", AccountFacts(region="ÎLE-DE-FRANCE"), True),
        (RuleKind.SEGMENT, "education", AccountFacts(segment="education"), True),
        (RuleKind.SEGMENT, "education", AccountFacts(segment="government"), False),
        (RuleKind.INDUSTRY, "Pharma", AccountFacts(industry="pharma"), True),
        (RuleKind.VALUE_TIER, "vip", AccountFacts(value_tier="vip"), True),
        (RuleKind.VALUE_TIER, "vip", AccountFacts(value_tier="key"), False),
    ],
)
def test_field_rules(kind: RuleKind, value: str, facts: AccountFacts, expected: bool) -> None:
    assert rule_matches(rule(kind, value=value), facts) is expected


def test_empty_rule_value_never_matches_empty_field() -> None:
    assert not rule_matches(rule(RuleKind.CITY, value=""), AccountFacts(city=""))


def test_polygon_rule_inside_outside_and_without_position() -> None:
    r = rule(RuleKind.POLYGON, polygon=PARIS_SQUARE)
    assert rule_matches(r, AccountFacts(latitude=48.8566, longitude=2.3522))
    assert not rule_matches(r, AccountFacts(latitude=45.76, longitude=4.84))  # Lyon
    assert not rule_matches(r, AccountFacts())


def test_polygon_boundary_belongs_to_the_polygon() -> None:
    assert point_in_polygon(48.80, 2.30, PARIS_SQUARE)
    assert point_in_polygon(48.90, 2.45, PARIS_SQUARE)  # a vertex


def test_concave_polygon() -> None:
    # an L shape: the notch (upper right) is outside
    ell = ((0.0, 0.0), (0.0, 2.0), (1.0, 2.0), (1.0, 1.0), (2.0, 1.0), (2.0, 0.0))
    assert point_in_polygon(0.5, 1.5, ell)
    assert point_in_polygon(1.5, 0.5, ell)
    assert not point_in_polygon(1.5, 1.5, ell)


def test_radius_rule() -> None:
    # Paris -> Versailles is about 17 km
    r = rule(RuleKind.RADIUS, center_latitude=48.8566, center_longitude=2.3522, radius_m=20_000)
    assert rule_matches(r, AccountFacts(latitude=48.8049, longitude=2.1204))
    small = rule(RuleKind.RADIUS, center_latitude=48.8566, center_longitude=2.3522, radius_m=10_000)
    assert not rule_matches(small, AccountFacts(latitude=48.8049, longitude=2.1204))


def test_first_match_by_priority_then_id() -> None:
    facts = AccountFacts(postal_code="75001", city="Paris")
    low = rule(RuleKind.CITY, priority=20, rid="a", value="Paris")
    high = rule(RuleKind.POSTAL_PREFIX, priority=5, rid="b", value="75")
    tie = rule(RuleKind.POSTAL_PREFIX, priority=5, rid="a", value="7")
    assert first_match([low, high], facts) == high
    assert first_match([low, high, tie], facts) == tie
    assert first_match([rule(RuleKind.CITY, value="Lyon")], facts) is None


@pytest.mark.parametrize(
    ("kind", "args", "field"),
    [
        (RuleKind.CITY, ("  ", None, (None, None), None), "value"),
        (RuleKind.SEGMENT, ("retail", None, (None, None), None), "value"),
        (RuleKind.POLYGON, ("", [[0, 0], [1, 1]], (None, None), None), "polygon"),
        (RuleKind.POLYGON, ("", [[0, 0], [1, 1], [95, 0]], (None, None), None), "polygon"),
        (RuleKind.RADIUS, ("", None, (None, 2.0), 10.0), "center_latitude"),
        (RuleKind.RADIUS, ("", None, (48.0, 2.0), 0.0), "radius_m"),
        (RuleKind.RADIUS, ("", None, (48.0, 2.0), float("nan")), "radius_m"),
    ],
)
def test_rule_problems_name_the_field(kind: RuleKind, args: tuple, field: str) -> None:  # type: ignore[type-arg]
    problem = rule_problem(kind, *args)
    assert problem is not None and problem[0] == field


def test_valid_rules_have_no_problem() -> None:
    assert rule_problem(RuleKind.VALUE_TIER, "VIP", None, (None, None), None) is None
    assert rule_problem(RuleKind.POLYGON, "", PARIS_SQUARE, (None, None), None) is None  # type: ignore[arg-type]
    assert rule_problem(RuleKind.RADIUS, "", None, (48.0, 2.0), 500.0) is None


coord = st.floats(min_value=-60, max_value=60, allow_nan=False)
facts_strategy = st.builds(
    AccountFacts,
    postal_code=st.sampled_from(["", "75001", "69002", "13008", "7500"]),
    city=st.sampled_from(["", "Paris", "Lyon"]),
    value_tier=st.sampled_from(["vip", "key", "regular", "low"]),
    latitude=st.one_of(st.none(), coord),
    longitude=st.one_of(st.none(), coord),
)
rules_strategy = st.lists(
    st.builds(
        AssignmentRule,
        id=st.text("abcdef", min_size=1, max_size=3),
        priority=st.integers(0, 5),
        kind=st.sampled_from([RuleKind.POSTAL_PREFIX, RuleKind.CITY, RuleKind.VALUE_TIER]),
        territory_id=st.just("t"),
        value=st.sampled_from(["75", "69", "Paris", "vip", "key"]),
    ),
    max_size=8,
    unique_by=lambda rule: rule.id,  # rule ids are unique (the order is by priority, then id)
)


@settings(max_examples=200, deadline=None)
@given(rules=rules_strategy, facts=facts_strategy)
def test_first_match_is_the_best_ranked_matching_rule(rules, facts) -> None:  # type: ignore[no-untyped-def]
    chosen = first_match(rules, facts)
    matching = [r for r in rules if rule_matches(r, facts)]
    if chosen is None:
        assert matching == []
    else:
        assert chosen in matching
        assert all((chosen.priority, chosen.id) <= (r.priority, r.id) for r in matching)
    # the order the rules are given in never changes the verdict
    assert first_match(list(reversed(rules)), facts) == chosen


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-170, 170),
    radius=st.floats(1, 1_000_000),
    dlat=st.floats(-1, 1),
    dlon=st.floats(-1, 1),
)
def test_radius_agrees_with_a_larger_radius(lat, lon, radius, dlat, dlon) -> None:  # type: ignore[no-untyped-def]
    # a point within r is within every larger radius; the centre is always within
    assert within_radius(lat, lon, lat, lon, radius)
    if within_radius(lat + dlat, lon + dlon, lat, lon, radius):
        assert within_radius(lat + dlat, lon + dlon, lat, lon, radius * 2)


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-10, 10), lon=st.floats(-10, 10), size=st.floats(0.01, 5))
def test_axis_aligned_square_agrees_with_bounds(lat, lon, size) -> None:  # type: ignore[no-untyped-def]
    square = ((-size, -size), (-size, size), (size, size), (size, -size))
    expected = -size <= lat <= size and -size <= lon <= size
    assert point_in_polygon(lat, lon, square) is expected
