"""UUIDv7 ids made in one process are time-ordered and strictly increasing."""

from __future__ import annotations

import uuid

from protocol.ids import uuid7


def test_uuid7_is_monotonic_within_a_millisecond() -> None:
    ids = [uuid7() for _ in range(2000)]  # many per millisecond
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_uuid7_carries_over_when_the_random_bits_are_exhausted() -> None:
    from protocol.ids import _next_after

    last = uuid.UUID("01890000-0000-7fff-bfff-ffffffffffff").int
    following = uuid.UUID(int=_next_after(last))
    assert following.version == 7 and following.variant == uuid.RFC_4122
    assert following.int > last and str(following).startswith("01890000-0001-7000-8000")
