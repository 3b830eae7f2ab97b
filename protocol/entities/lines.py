"""The line of a quote or an order, as it travels on the wire (priced by ``rules.pricing``)."""

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
    unit_price: Decimal
    discount_pct: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)

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
