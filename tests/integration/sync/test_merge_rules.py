"""The three-way field merge, as a pure function."""

from __future__ import annotations

from typing import Any

from server.sync.merge import merge_fields, written_by_others
from server.sync.registry import Policy

POLICIES = {"notes": Policy.APPEND, "price": Policy.SERVER_WINS}


def merge(
    changes: dict[str, Any],
    clocks: dict[str, list[Any]],
    *,
    base: int,
    hlc: str = "5",
    device: str = "me",
) -> Any:
    current = {"title": "server", "notes": "server notes", "price": 10, "city": "Oslo"}
    return merge_fields(
        changes=changes,
        current=current,
        clock_of=lambda f: clocks.get(f) or clocks.get("*"),
        base_version=base,
        device=device,
        hlc=hlc,
        policy=lambda f: POLICIES.get(f, Policy.LWW),
        to_wire=lambda v: v,
    )


def test_fields_untouched_since_the_base_take_the_device_value() -> None:
    outcome = merge({"title": "mine"}, {"*": [1, "1", None], "city": [3, "3", "other"]}, base=2)
    assert outcome.writes == {"title": "mine"} and not outcome.conflicts
    assert outcome.status(written_by_others({"city": [3, "3", "other"]}, 2, "me")) == "merged"
    assert outcome.status(False) == "applied"


def test_own_writes_are_not_concurrent() -> None:
    outcome = merge({"title": "again"}, {"title": [4, "4", "me"]}, base=0)
    assert outcome.writes == {"title": "again"} and not outcome.concurrent


def test_both_sides_equal_is_no_conflict() -> None:
    outcome = merge({"title": "server"}, {"title": [4, "4", "other"]}, base=1)
    assert outcome.writes == {} and outcome.conflicts == [] and outcome.concurrent
    assert outcome.status(True) == "merged"


def test_policies_decide_a_real_conflict() -> None:
    clocks = {f: [4, "4", "other"] for f in ("title", "notes", "price")}
    later = merge({"title": "mine", "notes": "my notes", "price": 7}, clocks, base=1, hlc="9")
    assert later.writes == {"title": "mine", "notes": "server notes\nmy notes"}
    assert [(c.field, c.kept) for c in later.conflicts] == [
        ("title", "yours"),
        ("notes", "both"),
        ("price", "theirs"),
    ]
    assert later.status(True) == "conflict"
    earlier = merge({"title": "mine"}, clocks, base=1, hlc="1")
    assert earlier.writes == {} and earlier.conflicts[0].kept == "theirs"
    assert (earlier.conflicts[0].yours, earlier.conflicts[0].theirs) == ("mine", "server")
