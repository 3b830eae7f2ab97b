"""Hybrid logical clocks: encoding, ordering, monotonic ticks, observing remote clocks."""

from __future__ import annotations

import pytest

from protocol import hlc


def test_encode_decode_round_trip_and_string_order_is_time_order() -> None:
    value = hlc.encode(1_700_000_000_123, 7, "device-a")
    assert value == "1700000000123-00007-device-a"
    assert hlc.decode(value) == (1_700_000_000_123, 7, "device-a")
    ordered = [
        hlc.encode(5, 0, "b"),
        hlc.encode(5, 1, "a"),
        hlc.encode(6, 0, "a"),
        hlc.encode(10_000, 0, "a"),
    ]
    assert sorted(ordered) == ordered


def test_node_with_dashes_survives_decoding() -> None:
    node = "0190f3a2-7b1c-7d8e-9f00-1234567890ab"
    assert hlc.decode(hlc.encode(1, 2, node))[2] == node


@pytest.mark.parametrize("bad", ["", "12-1-x", "1700000000123-00007-", "abc", "1700000000123-7-x"])
def test_malformed_clocks_are_refused(bad: str) -> None:
    assert not hlc.is_valid(bad)
    with pytest.raises(ValueError):
        hlc.decode(bad)


def test_ticks_are_strictly_increasing_even_when_the_wall_clock_stalls_or_goes_back() -> None:
    now = [1000]
    clock = hlc.Clock("n", now_ms=lambda: now[0])
    first = clock.tick()
    second = clock.tick()
    now[0] = 900  # the wall clock jumps back
    third = clock.tick()
    now[0] = 2000
    fourth = clock.tick()
    assert first < second < third < fourth
    assert hlc.decode(fourth) == (2000, 0, "n")


def test_observing_a_later_remote_clock_moves_local_ticks_after_it() -> None:
    clock = hlc.Clock("server", now_ms=lambda: 1000)
    remote = hlc.encode(5000, 3, "phone")
    clock.observe(remote)
    assert clock.tick() > remote
    clock.observe(hlc.encode(10, 0, "old"))  # an older clock changes nothing
    assert hlc.decode(clock.tick())[0] == 5000


def test_counter_overflow_carries_into_the_time_part_and_still_sorts_after() -> None:
    clock = hlc.Clock("n", now_ms=lambda: 1000)
    clock.observe(hlc.encode(1000, hlc.MAX_COUNTER - 1, "phone"))
    readings = [clock.tick() for _ in range(3)]
    assert readings == sorted(readings) and len(set(readings)) == 3
    assert [hlc.decode(r)[:2] for r in readings] == [
        (1000, hlc.MAX_COUNTER),
        (1001, 0),
        (1001, 1),
    ]
    with pytest.raises(ValueError):
        hlc.encode(1, hlc.MAX_COUNTER + 1, "n")  # never a 6-digit counter that sorts low


def test_observe_never_adopts_a_clock_beyond_its_bound() -> None:
    clock = hlc.Clock("server", now_ms=lambda: 1000, max_ahead_ms=50)
    clock.observe(hlc.encode(9_000_000_000_000, 0, "phone-from-the-future"))
    assert hlc.decode(clock.tick())[0] == 1050
    assert hlc.clamp(hlc.encode(5000, 3, "p"), 2000) == hlc.encode(2000, 3, "p")
    assert hlc.clamp(hlc.encode(1500, 3, "p"), 2000) == hlc.encode(1500, 3, "p")


def test_server_processes_use_distinct_hlc_node_ids() -> None:
    from server.sync.registry import SyncRegistry
    from server.sync.writer import ChangeWriter

    nodes = {ChangeWriter(SyncRegistry()).clock.node for _ in range(20)}
    assert len(nodes) == 20 and all(node.startswith("server-") for node in nodes)
