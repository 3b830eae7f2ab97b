"""The shape of the territory hierarchy: region -> area -> territory (pure, no I/O)."""

from __future__ import annotations

PARENT_LEVEL: dict[str, str | None] = {"region": None, "area": "region", "territory": "area"}


def hierarchy_problem(level: str, parent_level: str | None) -> str | None:
    """Why a node of ``level`` cannot sit under a parent of ``parent_level`` (None: no parent)."""
    expected = PARENT_LEVEL[level]
    if expected == parent_level:
        return None
    if expected is None:
        return "a region has no parent"
    return f"the parent of a {level} must be a {expected}"
