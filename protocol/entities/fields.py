"""Field types shared by the entity records: bounded text, coordinates, aware times.

Every text field of every entity has a maximum length (docs/entities.md lists them); msgspec
enforces it when a push, a REST body or an SDK write is decoded.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

NAME_MAX = 200
NOTES_MAX = 20_000
REASON_MAX = 500

# Every timestamp on the wire carries its offset; a naive one is refused, never guessed.
AwareDateTime = Annotated[dt.datetime, Meta(tz=True)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Meters = Annotated[float, Meta(ge=0, le=1e7)]
# a check-in radius: under 1 m no phone fix is ever inside; past 10 km a check-in says nothing
CheckInRadius = Annotated[float, Meta(ge=1, le=10_000)]

Name = Annotated[str, Meta(min_length=1, max_length=NAME_MAX)]
Title = Annotated[str, Meta(max_length=NAME_MAX)]  # may be empty on the wire; validators refuse it
Text100 = Annotated[str, Meta(max_length=100)]
Address = Annotated[str, Meta(max_length=300)]
PostalCode = Annotated[str, Meta(max_length=20)]
Phone = Annotated[str, Meta(max_length=50)]
Email = Annotated[
    str,
    Meta(
        max_length=254,
        pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
        description="an email address (name@example.com), or empty",
    ),
]
Notes = Annotated[str, Meta(max_length=NOTES_MAX)]
Reason = Annotated[str, Meta(max_length=REASON_MAX)]
ReasonCode = Annotated[str, Meta(max_length=40)]  # a machine-readable reason (``arrears``)
DocumentNumber = Annotated[str, Meta(max_length=40)]
Currency = Annotated[
    str,
    Meta(
        max_length=3,
        pattern=r"^[A-Z]{3}$",  # no min_length: a short code is told the ISO rule
        description="a three-letter ISO 4217 code such as EUR",
    ),
]
Sku = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=r"^\S+$", description="a code without spaces")
]
Unit = Annotated[str, Meta(min_length=1, max_length=20)]
Code = Annotated[
    str, Meta(min_length=1, max_length=32, pattern=r"^\S+$", description="a code without spaces")
]
