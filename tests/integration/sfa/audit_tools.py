"""The order audit as a chain: each order's transitions, oldest first, lead from ``draft`` to
its current status with no gap (a status change the audit missed breaks the chain)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.db import Database
from server.sfa.orders.models import Order, OrderTransition


async def audit_chains(db: Database) -> dict[str, tuple[str, list[tuple[str, str, str]]]]:
    """Per order id: (its status, its transitions as (action, from, to), oldest first)."""
    async with db.reading() as session:
        found = await session.execute(sa.select(Order.id, Order.status))
        orders = {str(order_id): str(status) for order_id, status in found}
        rows = await session.execute(
            sa.select(
                OrderTransition.order_id,
                OrderTransition.action,
                OrderTransition.from_status,
                OrderTransition.to_status,
            ).order_by(OrderTransition.order_id, OrderTransition.id)
        )
        steps: dict[str, list[tuple[str, str, str]]] = {}
        for order_id, action, from_status, to_status in rows:
            steps.setdefault(str(order_id), []).append((action, from_status, to_status))
    return {order_id: (status, steps.get(order_id, [])) for order_id, status in orders.items()}


def broken_links(status: str, steps: list[tuple[str, str, str]]) -> list[str]:
    """What is missing from one order's audit (empty: complete)."""
    problems: list[str] = []
    at = "draft"
    for action, from_status, to_status in steps:
        if from_status != at:
            problems.append(f"{action} starts from {from_status}, the order was {at}")
        at = to_status
    if at != status:
        problems.append(f"the audit ends at {at}, the order is {status}")
    return problems


async def assert_audit_complete(db: Database) -> dict[str, Any]:
    """Every order's audit is a complete chain; returns the chains."""
    chains = await audit_chains(db)
    broken = {
        order_id: problems
        for order_id, (status, steps) in chains.items()
        if (problems := broken_links(status, steps))
    }
    assert not broken, broken
    return chains
