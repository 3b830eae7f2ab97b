"""Great-circle distances between GPS positions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from protocol.entities.visits import CheckInVerdict

# a check-in within this many metres of the account counts as at the customer (the default of
# the ``visit_checkin_radius_m`` setting)
DEFAULT_CHECKIN_RADIUS_M = 200.0

# The IUGG mean Earth radius; haversine on a sphere is within 0.5% of the ellipsoid everywhere.
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres between two (latitude, longitude) points in degrees."""
    for name, value, bound in (
        ("lat1", lat1, 90.0),
        ("lat2", lat2, 90.0),
        ("lon1", lon1, 180.0),
        ("lon2", lon2, 180.0),
    ):
        if not -bound <= value <= bound:  # also refuses NaN
            raise ValueError(f"{name} out of range: {value}")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards asin against a rounding error pushing a just above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_valid_position(latitude: float, longitude: float) -> bool:
    """True when the pair is a real position on Earth."""
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def checkin_verdict(distance_m: float, accuracy_m: float | None, radius_m: float) -> CheckInVerdict:
    """Inside, outside or uncertain: the phone is somewhere in the circle of ``accuracy_m``
    around its fix, ``distance_m`` from the account. Inside when the whole circle is within the
    radius, outside when the whole circle is beyond it, uncertain when it straddles the radius.
    An unreported accuracy counts as an exact fix (0 m)."""
    accuracy = accuracy_m or 0.0
    if distance_m + accuracy <= radius_m:
        return CheckInVerdict.INSIDE
    if distance_m - accuracy > radius_m:
        return CheckInVerdict.OUTSIDE
    return CheckInVerdict.UNCERTAIN


@dataclass(frozen=True)
class CheckInMeasure:
    """A check-in measured against the account: distance (m, 0.1), verdict and radius used;
    distance and verdict are None when the account has no position."""

    distance_m: float | None
    verdict: CheckInVerdict | None
    radius_m: float

    @property
    def flagged(self) -> bool:
        """For the manager's attention: not certainly inside."""
        return self.verdict is not None and self.verdict is not CheckInVerdict.INSIDE


def measure_check_in(
    account_position: tuple[float, float] | None,
    latitude: float,
    longitude: float,
    accuracy_m: float | None,
    radius_m: float = DEFAULT_CHECKIN_RADIUS_M,
) -> CheckInMeasure:
    """The check-in's distance to the account and its verdict (the server's and the SDK's)."""
    if account_position is None:
        return CheckInMeasure(None, None, radius_m)
    distance = round(haversine_m(account_position[0], account_position[1], latitude, longitude), 1)
    return CheckInMeasure(distance, checkin_verdict(distance, accuracy_m, radius_m), radius_m)


def radius_for(
    segment: str | None,
    by_segment: Mapping[str, float],
    default_m: float,
    *,
    account_m: float | None = None,
) -> float:
    """The check-in radius of an account: its own (``account_m``), else its segment's, else the
    default."""
    if account_m is not None:
        return account_m
    return by_segment.get(segment or "", default_m)


def parse_radius_by_segment(text: str) -> dict[str, float]:
    """``"government=300,consumer=150"`` as {segment: metres}; a bad entry raises ValueError."""
    radii: dict[str, float] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        segment, sep, metres = entry.partition("=")
        if not sep or not segment.strip():
            raise ValueError(f"expected segment=metres, got {entry!r}")
        value = float(metres)
        if not 0 < value < 1_000_000:  # also refuses NaN
            raise ValueError(f"radius of {segment.strip()!r} must be a positive number of metres")
        radii[segment.strip()] = value
    return radii


# --- territory geometry (assignment rules) ---
# A polygon is a sequence of (latitude, longitude) vertices in degrees, implicitly closed. The
# test is planar in degrees, which is exact enough for territory-sized shapes; a polygon crossing
# the antimeridian must be split in two rules.


def point_in_polygon(
    latitude: float, longitude: float, polygon: Sequence[tuple[float, float]]
) -> bool:
    """True when the point lies inside ``polygon`` or on its boundary (even-odd rule)."""
    if len(polygon) < 3:
        return False
    inside = False
    count = len(polygon)
    for i in range(count):
        lat1, lon1 = polygon[i]
        lat2, lon2 = polygon[(i + 1) % count]
        if _on_segment(latitude, longitude, lat1, lon1, lat2, lon2):
            return True  # the boundary belongs to the territory: no point falls between two
        if (lat1 > latitude) != (lat2 > latitude):
            crossing = lon1 + (latitude - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if longitude < crossing:
                inside = not inside
    return inside


def _on_segment(lat: float, lon: float, lat1: float, lon1: float, lat2: float, lon2: float) -> bool:
    cross = (lat2 - lat1) * (lon - lon1) - (lon2 - lon1) * (lat - lat1)
    if abs(cross) > 1e-12:
        return False
    return min(lat1, lat2) <= lat <= max(lat1, lat2) and min(lon1, lon2) <= lon <= max(lon1, lon2)


def within_radius(
    latitude: float, longitude: float, center_lat: float, center_lon: float, radius_m: float
) -> bool:
    """True when the point is at most ``radius_m`` metres (great circle) from the centre."""
    return haversine_m(latitude, longitude, center_lat, center_lon) <= radius_m
