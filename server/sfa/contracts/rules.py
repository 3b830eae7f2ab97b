"""Pure contract rules: the status machine, the date order and the schedule's sum."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from protocol.entities.contracts import ContractStatus

ALLOWED_TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.ACTIVE, ContractStatus.TERMINATED}),
    ContractStatus.ACTIVE: frozenset({ContractStatus.COMPLETED, ContractStatus.TERMINATED}),
    ContractStatus.COMPLETED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}
# contracts whose open instalments are owed (receivables, arrears): signed and not terminated
RECEIVABLE_STATUSES = (ContractStatus.ACTIVE, ContractStatus.COMPLETED)


def may_move(current: ContractStatus, target: ContractStatus) -> bool:
    """Is ``current -> target`` an allowed status change?"""
    return target in ALLOWED_TRANSITIONS[current]


def dates_in_order(start: dt.date, end: dt.date) -> bool:
    """A contract may end on the day it starts, never before."""
    return end >= start


def schedule_total(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of a schedule's amounts."""
    return sum(amounts, Decimal(0))
