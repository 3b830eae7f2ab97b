"""The events a period's statements are computed from, gathered from the central records.

- an order earns on its first confirmation (``order_transitions`` to ``confirmed``): one
  ``CreditLine`` per order line with its net (``rules.document_pricing.line_figures``) and its
  product's category name, split between reps by the order's shares (default: all to its owner);
- a payment earns on the day it was received, credited to whoever owned the account then
  (``account_assignments``; the payment's own rep when the account has no history);
- a cancellation after the confirmation reverses the order's credit; a refund reverses the
  fraction ``refund / payment`` of the payment's credit.

Days and period boundaries are in the company's time zone. See docs/commissions.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rules.commission_plans import HUNDRED, period_bounds, period_of, split_credit
from rules.commissions import Credit, CreditLine, Reversal
from rules.document_pricing import line_figures
from server.settings import Settings
from server.sfa.commissions.repository import CommissionRepository

Shares = list[tuple[uuid.UUID, Decimal]]


@dataclass(frozen=True)
class Clock:
    """The company's time zone: local days of instants and UTC bounds of periods."""

    zone: zoneinfo.ZoneInfo

    def day_of(self, at: dt.datetime) -> dt.date:
        """The local day of an instant."""
        return at.astimezone(self.zone).date()

    def start_of(self, day: dt.date) -> dt.datetime:
        """The UTC instant a local day starts."""
        return dt.datetime.combine(day, dt.time(), self.zone).astimezone(dt.UTC)

    def window(self, period: str) -> tuple[dt.datetime, dt.datetime]:
        """The UTC instants a period starts and ends (exclusive)."""
        first, after = period_bounds(period)
        return self.start_of(first), self.start_of(after)


@dataclass
class Events:
    """Per rep, the credits earned in a period and the reversals that happened in it, each with
    the period of the credit it reverses."""

    credits: dict[uuid.UUID, list[Credit]] = field(default_factory=lambda: defaultdict(list))
    reversals: dict[uuid.UUID, list[tuple[Reversal, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def shares_of(owner_id: uuid.UUID, stored: list[Any] | None) -> Shares:
    """An order's shares: the stored split, else everything to its owner."""
    if not stored:
        return [(owner_id, HUNDRED)]
    return [(uuid.UUID(str(item["rep_id"])), Decimal(str(item["share_pct"]))) for item in stored]


def order_credits(
    order: Any, shares: Shares, categories: dict[uuid.UUID, str], at: dt.datetime, day: dt.date
) -> dict[uuid.UUID, Credit]:
    """Each rep's credit of a confirmed order: its lines' net split by the shares."""
    per_rep: dict[uuid.UUID, list[CreditLine]] = {rep: [] for rep, _ in shares}
    discount = Decimal(str(order.order_discount_pct or 0))
    for line in order.lines or []:
        product_id = uuid.UUID(str(line["product_id"]))
        quantity = Decimal(str(line["quantity"]))
        _, net, _ = line_figures(
            quantity,
            Decimal(str(line.get("unit_price", 0))),
            Decimal(str(line.get("discount_pct", 0))),
            discount,
            Decimal(0),
        )
        # one owner with everything: their part is the net (what split_credit gives, cheaper)
        parts = {shares[0][0]: net} if len(shares) == 1 else split_credit(net, shares)
        for rep, pct in shares:
            per_rep[rep].append(
                CreditLine(
                    line_id=uuid.UUID(str(line["id"])),
                    category=categories.get(product_id),
                    product_id=product_id,
                    full_amount=net,
                    share_pct=pct,
                    amount=parts[rep],
                    quantity=quantity * pct / HUNDRED,
                )
            )
    return {
        rep: Credit(id=order.id, source="order", at=at, day=day, lines=tuple(lines))
        for rep, lines in per_rep.items()
    }


def clock_for(settings: Settings) -> Clock:
    """The company's clock."""
    return Clock(zoneinfo.ZoneInfo(settings.company_timezone))


def period_in(day: dt.date, length: str) -> str:
    """The period of the configured length a local day falls in."""
    return period_of(day, "quarter" if length == "quarter" else "month")


def reader_for(repo: CommissionRepository, settings: Settings) -> EventReader:
    """An event reader in the company's time zone and with its period length."""
    return EventReader(repo, clock_for(settings), settings.commission_period)


class EventReader:
    """Reads the events of periods from the central records (a few queries per period)."""

    def __init__(self, repo: CommissionRepository, clock: Clock, period_length: str) -> None:
        self.repo = repo
        self.clock = clock
        self.length = period_length

    def period_of_day(self, day: dt.date) -> str:
        """The period a local day falls in."""
        return period_in(day, self.length)

    async def order_events(self, period: str) -> Events:
        """Order credits confirmed in ``period`` and cancellations made in it."""
        start, end = self.clock.window(period)
        events = Events()
        confirmed = {row.order_id: row.at for row in await self.repo.confirmations(start, end)}
        cancelled = await self.repo.cancellations(start, end)
        earlier = await self.repo.confirmations_of(
            row.order_id for row in cancelled if row.order_id not in confirmed
        )
        when = {**earlier, **confirmed}
        credits = await self._order_credits(when)
        for order_id in confirmed:
            for rep, credit in credits.get(order_id, {}).items():
                events.credits[rep].append(credit)
        for row in cancelled:
            at = when.get(row.order_id)
            if at is None or row.at < at:
                continue  # cancelled before it was ever confirmed: it earned nothing
            origin = self.period_of_day(self.clock.day_of(at))
            for rep in credits.get(row.order_id, {}):
                reversal = Reversal(
                    id=row.id, source="cancellation", at=row.at, credit_id=row.order_id
                )
                events.reversals[rep].append((reversal, origin))
        return events

    async def _order_credits(
        self, confirmed: dict[uuid.UUID, dt.datetime]
    ) -> dict[uuid.UUID, dict[uuid.UUID, Credit]]:
        orders = await self.repo.orders(confirmed)
        stored = await self.repo.splits_of(confirmed)
        products = {uuid.UUID(str(line["product_id"])) for o in orders for line in o.lines or []}
        categories = await self.repo.categories_of(products)
        out = {}
        for order in orders:
            at = confirmed[order.id]
            shares = shares_of(order.owner_id, stored.get(order.id))
            out[order.id] = order_credits(order, shares, categories, at, self.clock.day_of(at))
        return out

    async def payment_events(self, period: str) -> Events:
        """Payments received in ``period`` and refunds received in it."""
        first, after = period_bounds(period)
        events = Events()
        payments = await self.repo.money("payment", first, after)
        refunds = await self.repo.money("refund", first, after)
        originals = {row.id: row for row in payments}
        missing = [row.refund_of for row in refunds if row.refund_of not in originals]
        originals |= {row.id: row for row in await self.repo.payments_by_id(missing)}
        owners = await self._owners(originals.values())
        for row in payments:
            events.credits[owners[row.id]].append(self._payment_credit(row))
        for row in refunds:
            original = originals.get(row.refund_of)
            if original is None or not original.amount:
                continue
            reversal = self._refund(row, original)
            origin = self.period_of_day(original.received_on)
            events.reversals[owners[original.id]].append((reversal, origin))
        return events

    def _instant(self, row: Any) -> dt.datetime:
        """When a payment counts: its recording, when that was on its day of receipt; else the
        last instant of that day (a payment recorded later is dated back to its day)."""
        if self.clock.day_of(row.created_at) == row.received_on:
            return row.created_at  # type: ignore[no-any-return]
        return self.clock.start_of(row.received_on + dt.timedelta(days=1)) - dt.timedelta(
            microseconds=1
        )

    def _refund(self, row: Any, original: Any) -> Reversal:
        """A refund as the reversal of the fraction ``refund / payment`` of its payment."""
        return Reversal(
            id=row.id,
            source="refund",
            at=self._instant(row),
            credit_id=original.id,
            fraction=min(Decimal(1), -row.amount / original.amount),
        )

    def _payment_credit(self, row: Any) -> Credit:
        line = CreditLine(line_id=row.id, category=None, full_amount=row.amount, amount=row.amount)
        return Credit(
            id=row.id, source="payment", at=self._instant(row), day=row.received_on, lines=(line,)
        )

    async def _owners(self, payments: Iterable[Any]) -> dict[uuid.UUID, uuid.UUID]:
        """Who each payment is credited to: the account's owner at the payment's instant."""
        rows = list(payments)
        history: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for item in await self.repo.assignments_of(row.account_id for row in rows):
            history[item.account_id].append(item)
        out = {}
        for row in rows:
            at = self._instant(row)
            held = [
                item
                for item in history.get(row.account_id, [])
                if item.valid_from <= at and (item.valid_to is None or at < item.valid_to)
            ]
            held.sort(key=lambda item: item.valid_from)
            owner = held[-1].owner_id if held and held[-1].owner_id else row.rep_id
            out[row.id] = owner
        return out

    async def events(self, period: str, earns_on: str) -> Events:
        """The events of ``period`` of plans that earn on ``earns_on``."""
        if earns_on == "payment_collected":
            return await self.payment_events(period)
        return await self.order_events(period)

    async def earlier_reversals(
        self, earns_on: str, credit_ids: Iterable[uuid.UUID], before: Reversal
    ) -> list[Reversal]:
        """Reversals of these credits made before ``before`` (they are applied to both sides of
        its clawback)."""
        ids = list(credit_ids)
        found: list[Reversal] = []
        if earns_on == "payment_collected":
            originals = {row.id: row for row in await self.repo.payments_by_id(ids)}
            for row in await self.repo.refunds_of(ids):
                found.append(self._refund(row, originals[row.refund_of]))
        else:
            for row in await self.repo.cancellations_of(ids):
                found.append(
                    Reversal(id=row.id, source="cancellation", at=row.at, credit_id=row.order_id)
                )
        return [item for item in found if (item.at, item.id) < (before.at, before.id)]
