"""rules.geo: great-circle distances against known city pairs."""

from __future__ import annotations

import math

import pytest

from rules.geo import EARTH_RADIUS_M, haversine_m, is_valid_position

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
NEW_YORK = (40.7128, -74.0060)
LOS_ANGELES = (34.0522, -118.2437)
BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)
SYDNEY = (-33.8688, 151.2093)


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        (PARIS, LONDON, 343.5),
        (NEW_YORK, LOS_ANGELES, 3935.7),
        (BEIJING, SHANGHAI, 1067.3),
        (SYDNEY, LONDON, 16994.0),
    ],
)
def test_known_city_pairs(a, b, expected_km) -> None:
    # published great-circle figures; within 0.1% (the sphere vs. ellipsoid error is below 0.5%)
    assert haversine_m(*a, *b) / 1000 == pytest.approx(expected_km, rel=1e-3)


def test_distance_is_symmetric_and_zero_for_the_same_point() -> None:
    assert haversine_m(*PARIS, *LONDON) == pytest.approx(haversine_m(*LONDON, *PARIS))
    assert haversine_m(*BEIJING, *BEIJING) == 0.0


def test_small_distances_are_metre_accurate() -> None:
    # 0.001 degree of latitude is 111.2 m everywhere
    assert haversine_m(30.0, 120.0, 30.001, 120.0) == pytest.approx(111.19, abs=0.05)
    # a degree of longitude shrinks with the cosine of the latitude
    at_60 = haversine_m(60.0, 10.0, 60.0, 10.001)
    assert at_60 == pytest.approx(111.19 * math.cos(math.radians(60)), abs=0.05)


def test_antipodes_are_half_the_circumference() -> None:
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert haversine_m(90.0, 0.0, -90.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_crossing_the_date_line_takes_the_short_way() -> None:
    assert haversine_m(0.0, 179.9, 0.0, -179.9) == pytest.approx(22_239, rel=1e-3)


@pytest.mark.parametrize(
    "point", [(91.0, 0.0, 0.0, 0.0), (0.0, 181.0, 0.0, 0.0), (0.0, 0.0, math.nan, 0.0)]
)
def test_positions_off_the_earth_are_refused(point) -> None:
    with pytest.raises(ValueError):
        haversine_m(*point)


def test_is_valid_position() -> None:
    assert is_valid_position(-90.0, 180.0)
    assert not is_valid_position(90.5, 0.0)
    assert not is_valid_position(0.0, math.nan)


# --- check-in verdicts with the phone's accuracy ----------------------------------------------

from protocol.entities.visits import CheckInVerdict  # noqa: E402
from rules.geo import (  # noqa: E402
    DEFAULT_CHECKIN_RADIUS_M,
    checkin_verdict,
    measure_check_in,
    parse_radius_by_segment,
    radius_for,
)


@pytest.mark.parametrize(
    ("distance", "accuracy", "verdict"),
    [
        (0.0, 0.0, CheckInVerdict.INSIDE),
        (150.0, 50.0, CheckInVerdict.INSIDE),  # the circle touches the radius from inside
        (150.0, 50.1, CheckInVerdict.UNCERTAIN),
        (190.0, 30.0, CheckInVerdict.UNCERTAIN),  # straddles
        (250.0, 50.0, CheckInVerdict.UNCERTAIN),  # touches it from outside
        (250.1, 50.0, CheckInVerdict.OUTSIDE),
        (200.0, None, CheckInVerdict.INSIDE),  # no accuracy reported: an exact fix
        (200.1, None, CheckInVerdict.OUTSIDE),
        (100.0, 5000.0, CheckInVerdict.UNCERTAIN),  # a useless fix decides nothing
    ],
)
def test_the_verdict_accounts_for_the_accuracy_circle(distance, accuracy, verdict) -> None:
    assert checkin_verdict(distance, accuracy, 200.0) is verdict


def test_measuring_a_check_in_gives_distance_verdict_and_flag() -> None:
    north_111m = (SHANGHAI[0] + 0.001, SHANGHAI[1])
    near = measure_check_in(SHANGHAI, *north_111m, 12.5)
    assert (near.distance_m, near.verdict, near.flagged) == (111.2, CheckInVerdict.INSIDE, False)
    assert near.radius_m == DEFAULT_CHECKIN_RADIUS_M == 200.0
    straddling = measure_check_in(SHANGHAI, *north_111m, 100.0)
    assert (straddling.verdict, straddling.flagged) == (CheckInVerdict.UNCERTAIN, True)
    far = measure_check_in(SHANGHAI, *north_111m, 12.5, radius_m=50.0)
    assert (far.verdict, far.flagged) == (CheckInVerdict.OUTSIDE, True)
    nowhere = measure_check_in(None, *north_111m, 12.5)
    assert (nowhere.distance_m, nowhere.verdict, nowhere.flagged) == (None, None, False)


def test_the_radius_comes_from_the_segment_else_the_default() -> None:
    radii = parse_radius_by_segment(" government=300, consumer=150.5 ,")
    assert radii == {"government": 300.0, "consumer": 150.5}
    assert radius_for("government", radii, 200.0) == 300.0
    assert radius_for("mid_size", radii, 200.0) == 200.0
    assert radius_for(None, radii, 200.0) == 200.0
    assert parse_radius_by_segment("") == {}
    for bad in ("government", "=300", "government=-1", "government=nan", "government=far"):
        with pytest.raises(ValueError):
            parse_radius_by_segment(bad)


def test_the_accounts_own_radius_comes_before_its_segments_and_the_default() -> None:
    radii = {"government": 300.0}
    assert radius_for("government", radii, 200.0, account_m=80.0) == 80.0
    assert radius_for("mid_size", radii, 200.0, account_m=1_000.0) == 1_000.0
    assert radius_for(None, {}, 200.0, account_m=None) == 200.0
    assert radius_for("government", radii, 200.0, account_m=None) == 300.0
