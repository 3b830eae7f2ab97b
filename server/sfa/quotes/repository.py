"""The queries the quote desk needs: visible quotes, filtered as they read today."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from rules.quotes import EXPIRED, EXPIRING_STATUSES
from server.sfa.accounts.models import Account
from server.sfa.orders.repository import territory_subtree
from server.sfa.quotes.models import Quote
from server.sfa.scopes import Visibility

quotes = cast(sa.Table, Quote.__table__)
_accounts = cast(sa.Table, Account.__table__)


@dataclass(frozen=True)
class QuoteFilters:
    """What ``GET /quotes`` filters on (all optional). ``status`` is the status a quote reads
    as on ``today`` (a quote past its validity reads ``expired`` before its row says so)."""

    status: str | None = None
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    today: dt.date | None = None


def _reads_as(status: str, today: dt.date) -> sa.ColumnElement[bool]:
    """Quotes whose status reads as ``status`` on ``today`` (``rules.quotes.effective_status``)."""
    past = sa.and_(quotes.c.valid_until.is_not(None), quotes.c.valid_until < today)
    if status == EXPIRED:
        return sa.or_(
            quotes.c.status == EXPIRED,
            sa.and_(quotes.c.status.in_(sorted(EXPIRING_STATUSES)), past),
        )
    if status in EXPIRING_STATUSES:
        return sa.and_(quotes.c.status == status, sa.not_(past))
    return quotes.c.status == status


class QuoteRepository:
    """Named statements over quotes for the REST reads."""

    def quotes_statement(self, filters: QuoteFilters, seen: Visibility) -> sa.Select[Any]:
        """The visible quotes matching ``filters``."""
        statement = (
            sa.select(quotes)
            .join(_accounts, _accounts.c.id == quotes.c.account_id)
            .where(seen.account_filter(_accounts.c.territory_id, _accounts.c.owner_id))
        )
        if filters.status is not None:
            assert filters.today is not None, "a status filter reads the quotes as of a day"
            statement = statement.where(_reads_as(filters.status, filters.today))
        if filters.rep_id is not None:
            statement = statement.where(quotes.c.owner_id == filters.rep_id)
        if filters.account_id is not None:
            statement = statement.where(quotes.c.account_id == filters.account_id)
        if filters.territory_id is not None:
            statement = statement.where(
                _accounts.c.territory_id.in_(territory_subtree(filters.territory_id))
            )
        return statement

    def quote_statement(self, quote_id: uuid.UUID, seen: Visibility) -> sa.Select[Any]:
        """One quote, if ``seen`` allows its account."""
        return self.quotes_statement(QuoteFilters(), seen).where(quotes.c.id == quote_id)
