"""The three-way field merge, as a pure function."""

from __future__ import annotations

from typing import Any

from server.sync.merge import merge_fields, written_by_others
from server.sync.registry import Policy, Rule

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


def _with_rule(changes: dict[str, Any], current: dict[str, Any], rule: Rule) -> Any:
    return merge_fields(
        changes=changes,
        current=current,
        clock_of=lambda _f: [4, "4", "other"],  # written elsewhere since the base
        base_version=1,
        device="me",
        hlc="9",
        policy=lambda f: rule if f == "tags" else Policy.LWW,
        to_wire=lambda v: v,
    )


def test_a_named_domain_rule_decides_and_is_named_in_the_conflict() -> None:
    union = Rule("union", lambda yours, theirs: sorted(set(yours) | set(theirs)))
    both = _with_rule({"tags": [1, 3]}, {"tags": [2, 3]}, union)
    assert both.writes == {"tags": [1, 2, 3]}
    assert [(c.kept, c.rule, c.yours, c.theirs) for c in both.conflicts] == [
        ("both", "union", [1, 3], [2, 3])
    ]
    assert both.status(True) == "conflict"
    theirs = _with_rule({"tags": [2]}, {"tags": [2, 3]}, union)  # the union is the server's
    assert theirs.writes == {} and [(c.kept, c.rule) for c in theirs.conflicts] == [
        ("theirs", "union")
    ]
    largest = Rule("largest", max)
    yours = _with_rule({"tags": 7}, {"tags": 5}, largest)
    assert yours.writes == {"tags": 7} and yours.conflicts[0].kept == "yours"


def test_a_rule_is_not_asked_when_only_one_side_changed_the_field() -> None:
    def refuse(_yours: Any, _theirs: Any) -> Any:
        raise AssertionError("the rule ran for an uncontested field")

    outcome = merge_fields(
        changes={"tags": [1]},
        current={"tags": [2]},
        clock_of=lambda _f: [1, "1", "other"],  # last written at the device's base version
        base_version=1,
        device="me",
        hlc="9",
        policy=lambda _f: Rule("refuse", refuse),
        to_wire=lambda v: v,
    )
    assert outcome.writes == {"tags": [1]} and outcome.conflicts == []
