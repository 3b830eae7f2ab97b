"""The line of a quote or an order, as it travels on the wire (priced by ``rules.pricing``).

The device asks for ``product_id``, ``quantity`` and ``discount_pct``; ``unit_price``,
``tax_rate`` and ``price_entry_id`` (the price-list entry that decided the unit price) are the
server's: it prices every line on every write of a draft (docs/pricing.md, "Integration").
A device may send its own offline figures; when they differ the server's stand and the push
result says so per line (``repriced``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec

MAX_LINES = 500


class Line(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One line of a quote or an order, as it travels on the wire."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: Decimal
    unit_price: Decimal = Decimal(0)
    discount_pct: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    price_entry_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        # msgspec cannot constrain Decimal fields, and a ValueError here carries the field path.
        for name in ("quantity", "unit_price", "discount_pct", "tax_rate"):
            if not getattr(self, name).is_finite():
                raise ValueError(f"{name} must be a finite number")
        if self.quantity <= 0:
            raise ValueError("quantity must be greater than 0")
        if self.unit_price < 0:
            raise ValueError("unit_price must be at least 0")
        if not 0 <= self.discount_pct <= 100:
            raise ValueError("discount_pct must be between 0 and 100")
        if not 0 <= self.tax_rate <= 1:
            raise ValueError("tax_rate must be between 0 and 1")
