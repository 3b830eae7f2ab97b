"""Builders for quote tests: a rep's quote in a given status, written like the engine does."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.sfa.quotes.models import Quote
from tests.pricing_tools import priced_product
from tests.synctools import act_as, create_as, insert_account


async def priced_line(db: Database, quantity: str, price: str, **extra: str) -> dict[str, Any]:
    """A line of a new product the server prices at ``price``."""
    return {
        "id": str(uuid7()),
        "product_id": str(await priced_product(db, price, extra.pop("tax_rate", "0"))),
        "quantity": quantity,
        **extra,
    }


async def quote_in(
    db: Database,
    rep: Any,
    steps: tuple[str, ...] = (),
    *,
    account_id: uuid.UUID | None = None,
    lines: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A quote of ``rep`` (one line of 2 x 10.00 unless told) taken through ``steps``."""
    account_id = account_id or await insert_account(db, owner_id=rep.id)
    record = {
        "account_id": str(account_id),
        "lines": lines if lines is not None else [await priced_line(db, "2", "10")],
        **extra,
    }
    quote = await create_as(db, rep, "quote", record)
    for step in steps:
        quote = await act_as(db, rep, "quote", quote["id"], step, {})
    return quote


async def set_valid_until(db: Database, quote_id: str, day: dt.date | None) -> None:
    """Move a quote's validity (the clock cannot move: the quote's end does)."""
    async with db.transaction() as session:
        await session.execute(
            sa.update(Quote.__table__)
            .where(Quote.__table__.c.id == uuid.UUID(quote_id))
            .values(valid_until=day)
        )


async def statuses(db: Database, *quote_ids: str) -> list[str]:
    """The stored statuses of quotes, in the order asked."""
    async with db.reading() as session:
        rows = dict(
            (
                await session.execute(
                    sa.select(Quote.id, Quote.status).where(
                        Quote.id.in_([uuid.UUID(q) for q in quote_ids])
                    )
                )
            ).all()
        )
    return [str(getattr(rows[uuid.UUID(q)], "value", rows[uuid.UUID(q)])) for q in quote_ids]
