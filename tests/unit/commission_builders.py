"""Small builders of commission plans and credits for the rules' tests."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from rules.commission_plans import Plan, Tier
from rules.commissions import Credit, CreditLine, Reversal

PLAN_ID = uuid.UUID(int=0xC0)
REP = uuid.UUID(int=0xD0)
START = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)

# a threshold below 50 %, the base rate to 100 %, an accelerator above it
TIERS = (
    Tier(name="threshold", from_pct=Decimal(0), multiplier=Decimal(0)),
    Tier(name="base", from_pct=Decimal(50), multiplier=Decimal(1)),
    Tier(name="accelerator", from_pct=Decimal(100), multiplier=Decimal("1.5")),
)


def make_plan(**overrides: Any) -> Plan:
    """A December plan for reps: 10,000 quota, 5 % by default, 8 % on hardware, whole tiers."""
    fields: dict[str, Any] = {
        "id": PLAN_ID,
        "name": "Field reps 2026",
        "valid_from": dt.date(2026, 1, 1),
        "role": "rep",
        "quota": Decimal(10_000),
        "default_rate_pct": Decimal(5),
        "category_rates_pct": {"hardware": Decimal(8)},
        "tiers": TIERS,
    }
    fields.update(overrides)
    return Plan(**fields)


def make_credit(
    index: int,
    amount: Decimal | str,
    *,
    category: str | None = None,
    product_id: uuid.UUID | None = None,
    quantity: Decimal | str = "0",
    share_pct: Decimal | str = "100",
    minutes: int | None = None,
) -> Credit:
    """A one-line order credit, ``index`` minutes into the period unless ``minutes`` is given."""
    at = START + dt.timedelta(minutes=index if minutes is None else minutes)
    full = Decimal(amount)
    share = Decimal(share_pct)
    return Credit(
        id=uuid.UUID(int=0x1000 + index),
        source="order",
        at=at,
        day=at.date(),
        lines=(
            CreditLine(
                line_id=uuid.UUID(int=0x2000 + index),
                category=category,
                product_id=product_id,
                full_amount=full,
                share_pct=share,
                amount=(full * share / 100).quantize(Decimal("0.01")),
                quantity=Decimal(quantity) * share / 100,
            ),
        ),
    )


def make_reversal(
    index: int, credit: Credit, fraction: Decimal | str = "1", *, minutes: int = 10_000
) -> Reversal:
    """A cancellation (``fraction`` 1) or a refund of part of ``credit``, after every credit."""
    fraction = Decimal(fraction)
    return Reversal(
        id=uuid.UUID(int=0x3000 + index),
        source="cancellation" if fraction == 1 else "refund",
        at=START + dt.timedelta(minutes=minutes + index),
        credit_id=credit.id,
        fraction=fraction,
    )
