"""Quote expiry: ``outpost expire-quotes`` (and later the scheduler) moves quotes past their
validity to ``expired``, in batches, through the ChangeWriter so devices receive the status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from protocol.entities.documents import QuoteStatus
from rules.quotes import EXPIRING_STATUSES, company_today
from server.db import Database
from server.errors import ValidationFailed
from server.settings import Settings
from server.sfa.quotes.models import Quote
from server.sync.writer import ChangeWriter

DEFAULT_BATCH = 500
MAX_BATCH = 10_000


def _silent(done: int) -> None:
    return None


class QuoteExpiryService:
    """Moves every quote whose ``valid_until`` day has passed (in the company's time zone)
    while it still waited on the customer to ``expired``; a second run finds nothing to do."""

    def __init__(self, db: Database, writer: ChangeWriter, settings: Settings) -> None:
        self.db, self.writer, self.settings = db, writer, settings

    async def expire_due(
        self,
        now: dt.datetime,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Callable[[int], None] = _silent,
    ) -> int:
        """Expire the quotes due at ``now`` (aware), one transaction per batch (the rows
        locked and their status checked again, so an accept committed meanwhile wins);
        ``progress(expired so far)`` after each batch. Returns how many were expired."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValidationFailed(f"batch size must be 1..{MAX_BATCH}", field="batch_size")
        today = company_today(now, self.settings.company_timezone)
        expired = 0
        while True:
            count = await self._expire_batch(today, batch_size)
            expired += count
            if count:
                progress(expired)
            if count < batch_size:
                return expired

    async def _expire_batch(self, today: dt.date, size: int) -> int:
        async with self.db.transaction() as session:
            ids = (
                await session.scalars(
                    sa.select(Quote.id)
                    .where(
                        Quote.status.in_(sorted(EXPIRING_STATUSES)),
                        Quote.valid_until < today,
                    )
                    .order_by(Quote.id)
                    .limit(size)
                    .with_for_update()
                )
            ).all()
            async with self.writer.batch(session):
                for quote_id in ids:
                    await self.writer.update(
                        session,
                        "quote",
                        quote_id,
                        {"status": QuoteStatus.EXPIRED},
                        principal=None,
                    )
            return len(ids)
