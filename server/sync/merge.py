"""Field-level three-way merge of a device's edit into the server's record (pure, no I/O).

A field takes the device's value when the server has not written it since the device's base
version, or when the last write was this same device's (its own mutations are causally
ordered). Otherwise both sides changed it: equal values are no conflict, different values are
resolved by the field's policy and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.sync import FieldConflict
from server.sync.registry import FieldPolicy, Policy, Rule

# [version when last written, hlc, device id or None]
Clock = list[Any]


@dataclass
class MergeOutcome:
    """What to write, what conflicted, and whether anything happened concurrently."""

    writes: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    concurrent: bool = False

    def status(self, foreign_writes: bool) -> str:
        """``conflict`` if a field differed on both sides; ``applied`` when nobody else wrote
        the record since the base version; ``merged`` when others changed other fields only
        (or set the same values)."""
        if self.conflicts:
            return "conflict"
        return "merged" if foreign_writes or self.concurrent else "applied"


def written_by_others(clocks: Mapping[str, Clock], base_version: int, device: str) -> bool:
    """True when a write newer than ``base_version`` came from somewhere else than ``device``."""
    return any(c[0] > base_version and c[2] != device for c in clocks.values())


def merge_fields(
    *,
    changes: Mapping[str, Any],
    current: Mapping[str, Any],
    clock_of: Callable[[str], Clock | None],
    base_version: int,
    device: str,
    hlc: str,
    policy: Callable[[str], FieldPolicy],
    to_wire: Callable[[Any], Any],
) -> MergeOutcome:
    """Merge ``changes`` (device values) into ``current`` (server values), both Python values."""
    outcome = MergeOutcome()
    for name, yours in changes.items():
        theirs = current.get(name)
        clock = clock_of(name)
        if clock is None or clock[0] <= base_version or clock[2] == device:
            if yours != theirs:
                outcome.writes[name] = yours
            continue
        outcome.concurrent = True
        if yours == theirs:
            continue
        rule = policy(name)
        if isinstance(rule, Rule):
            kept = _by_rule(outcome, name, rule, yours, theirs)
        elif rule is Policy.APPEND and isinstance(yours, str) and isinstance(theirs, str):
            merged = append_text(theirs, yours)
            if merged in (theirs, yours):  # one side already holds all the other's text
                if merged != theirs:
                    outcome.writes[name] = merged
                continue
            kept = "both"
            outcome.writes[name] = merged
        elif rule is Policy.LWW and hlc > str(clock[1]):
            kept = "yours"
            outcome.writes[name] = yours
        else:
            kept = "theirs"
        outcome.conflicts.append(
            FieldConflict(
                field=name,
                yours=to_wire(yours),
                theirs=to_wire(theirs),
                kept=kept,  # type: ignore[arg-type]
                rule=rule.name if isinstance(rule, Rule) else None,
            )
        )
    return outcome


def _by_rule(outcome: MergeOutcome, name: str, rule: Rule, yours: Any, theirs: Any) -> str:
    """Apply a domain rule; which side was kept, or ``both`` for a value made of the two."""
    value = rule.resolve(yours, theirs)
    if value == theirs:
        return "theirs"
    outcome.writes[name] = value
    return "yours" if value == yours else "both"


def append_text(theirs: str, yours: str) -> str:
    """The ``append`` merge: the server's text, then the lines the device added to its base.

    Both sides send the whole field, and both started from the same base text. The base is
    derived as the lines both values begin with (append-only text shares its start); the
    device's addition is what follows them in its value. When the device's lines are all
    already at the start of the server's text, it added nothing; added lines the server's text
    already ends with are not repeated.
    """
    if not theirs:
        return yours
    mine, server = yours.split("\n"), theirs.split("\n")
    shared = 0
    for a, b in zip(mine, server, strict=False):
        if a != b:
            break
        shared += 1
    added = mine[shared:]
    if not added or added == [""]:
        return theirs
    if not theirs.strip("\n"):
        return yours
    kept = theirs.rstrip("\n").split("\n")
    # lines the device added that the server's text already ends with (the device's own earlier
    # addition, merged in by a previous push it had not seen the answer of) are not repeated
    overlap = next(
        (n for n in range(min(len(added), len(kept)), 0, -1) if kept[-n:] == added[:n]), 0
    )
    return "\n".join([*kept, *added[overlap:]])
