"""Great-circle distances between GPS positions."""

from __future__ import annotations

import math

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
