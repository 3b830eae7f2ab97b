"""docs/notifications.md lists every reminder rule and every scheduler job (issue 19's "Done
when"): a rule or job added without its row fails here."""

from __future__ import annotations

import re
from pathlib import Path

from rules.reminders import RULES
from server.notifications.scheduler import JOBS
from server.notifications.sync_push import SYNC_NOW

DOC = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"


def _first_cells(heading: str) -> set[str]:
    """The names in the first column of the tables under ``heading`` (up to the next one)."""
    text = DOC.read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_every_rule_has_a_row_in_the_rules_table() -> None:
    assert set(RULES) | {SYNC_NOW} <= _first_cells("The rules")


def test_every_job_has_a_row_in_the_schedule_table() -> None:
    assert {job.name for job in JOBS} <= _first_cells("The scheduler")
