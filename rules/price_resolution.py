"""Price resolution: which price-list entry prices a product for an account, quantity and moment.

The server and the offline SDK run this same code over the same plain values (price lists and
their entries as they sync), so a line priced in airplane mode gets the server's unit price.
The precedence, the tie rules and ``no_price`` are explained, with examples, in docs/pricing.md.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from decimal import Decimal

import msgspec

from protocol import errors


class PricingError(ValueError):
    """A document that cannot be priced: a stable ``code`` and the offending ``field``."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class ListKind(enum.StrEnum):
    """How specific a price list is; the most specific applicable kind wins."""

    ACCOUNT = "account"
    SEGMENT = "segment"
    STANDARD = "standard"


PRECEDENCE: dict[ListKind, int] = {ListKind.ACCOUNT: 0, ListKind.SEGMENT: 1, ListKind.STANDARD: 2}


def _require_aware(value: dt.datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


class PriceList(msgspec.Struct, frozen=True, kw_only=True):
    """A price list: for one account, for a segment, or standard (neither), valid in a window.

    Unknown fields are ignored, so ``msgspec.convert(record, PriceList)`` reads a synced
    ``price_list`` record as it is (the same for entries and products).
    """

    id: uuid.UUID
    currency: str
    account_id: uuid.UUID | None = None
    segment: str | None = None
    valid_from: dt.datetime | None = None  # inclusive; None: since always
    valid_to: dt.datetime | None = None  # exclusive; None: for ever
    active: bool = True

    def __post_init__(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise ValueError("currency must be three capital letters")
        if self.account_id is not None and self.segment is not None:
            raise ValueError("a price list has an account_id or a segment, never both")
        _require_aware(self.valid_from, "valid_from")
        _require_aware(self.valid_to, "valid_to")
        if (
            self.valid_from is not None
            and self.valid_to is not None
            and not self.valid_from < self.valid_to
        ):
            raise ValueError("valid_from must be before valid_to")

    @property
    def kind(self) -> ListKind:
        """``account``, ``segment`` or ``standard``, from which of the two keys is set."""
        if self.account_id is not None:
            return ListKind.ACCOUNT
        if self.segment is not None:
            return ListKind.SEGMENT
        return ListKind.STANDARD

    def applies_to(self, account_id: uuid.UUID, segment: str | None) -> bool:
        """Whether the list may price a document of this account (of this segment)."""
        kind = self.kind
        if kind is ListKind.ACCOUNT:
            return self.account_id == account_id
        if kind is ListKind.SEGMENT:
            return segment is not None and self.segment == segment
        return True

    def valid_at(self, at: dt.datetime) -> bool:
        """Active and ``valid_from <= at < valid_to`` (a missing bound is open)."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_to is None or at < self.valid_to)
        )


class PriceEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One price of a product in a list, from ``min_quantity`` up (a quantity break)."""

    id: uuid.UUID
    price_list_id: uuid.UUID
    product_id: uuid.UUID
    unit_price: Decimal
    min_quantity: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if not (self.unit_price.is_finite() and self.unit_price >= 0):
            raise ValueError("unit_price must be a finite number of at least 0")
        if not (self.min_quantity.is_finite() and self.min_quantity > 0):
            raise ValueError("min_quantity must be a finite number greater than 0")


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    """The unit price of a line and the entry (of which list, of which kind) that decided it."""

    unit_price: Decimal
    entry_id: uuid.UUID
    price_list_id: uuid.UUID
    list_kind: ListKind
    min_quantity: Decimal


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def _valid_from_key(price_list: PriceList) -> tuple[int, int]:
    # a later start ranks first (exact, in microseconds); an open start is the oldest of all
    if price_list.valid_from is None:
        return (1, 0)
    return (0, -((price_list.valid_from - _EPOCH) // _MICROSECOND))


class PriceBook:
    """Price lists and their entries, indexed once so a document's lines resolve quickly."""

    def __init__(self, lists: Iterable[PriceList], entries: Iterable[PriceEntry]) -> None:
        self.lists: dict[uuid.UUID, PriceList] = {pl.id: pl for pl in lists}
        self._by_product: dict[uuid.UUID, list[PriceEntry]] = {}
        for entry in entries:
            if entry.price_list_id in self.lists:  # an entry of a list not held cannot price
                self._by_product.setdefault(entry.product_id, []).append(entry)

    def resolve(
        self,
        *,
        account_id: uuid.UUID,
        segment: str | None,
        product_id: uuid.UUID,
        quantity: Decimal,
        at: dt.datetime,
        currency: str,
        field: str = "lines[0]",
    ) -> Resolution:
        """The deciding entry for ``quantity`` of ``product_id``; ``PricingError`` when none.

        ``field`` is the line's path (``lines[3]``): errors name ``<field>.product_id``,
        ``<field>.quantity`` or ``currency``.
        """
        _require_aware(at, "at")
        # per list, the entry at the highest break not above the quantity
        best: dict[uuid.UUID, PriceEntry] = {}
        below_break = False  # some applicable list prices the product, but from a higher quantity
        other_currency: set[str] = set()
        for entry in self._by_product.get(product_id, ()):
            price_list = self.lists[entry.price_list_id]
            if not (price_list.applies_to(account_id, segment) and price_list.valid_at(at)):
                continue
            if entry.min_quantity > quantity:
                below_break = below_break or price_list.currency == currency
                continue
            if price_list.currency != currency:
                other_currency.add(price_list.currency)
                continue
            held = best.get(price_list.id)
            if held is None or _entry_key(entry) < _entry_key(held):
                best[price_list.id] = entry
        if not best:
            if other_currency:
                raise PricingError(
                    errors.CURRENCY_MISMATCH,
                    f"{field}: priced only in {', '.join(sorted(other_currency))}, "
                    f"not in the document's currency {currency}",
                    "currency",
                )
            if below_break:
                raise PricingError(
                    errors.NO_PRICE,
                    f"{field}: no price for a quantity of {quantity}",
                    f"{field}.quantity",
                )
            raise PricingError(
                errors.NO_PRICE,
                f"{field}: no applicable price for the product",
                f"{field}.product_id",
            )
        entry = min(best.values(), key=lambda e: self._list_key(e))
        price_list = self.lists[entry.price_list_id]
        return Resolution(
            unit_price=entry.unit_price,
            entry_id=entry.id,
            price_list_id=price_list.id,
            list_kind=price_list.kind,
            min_quantity=entry.min_quantity,
        )

    def _list_key(self, entry: PriceEntry) -> tuple[int, tuple[int, int], Decimal, str]:
        # between lists: most specific kind, then the latest start, then the lower price, then id
        price_list = self.lists[entry.price_list_id]
        return (
            PRECEDENCE[price_list.kind],
            _valid_from_key(price_list),
            entry.unit_price,
            str(price_list.id),
        )


def _entry_key(entry: PriceEntry) -> tuple[Decimal, Decimal, str]:
    # within one list: the highest break, then (duplicates only) the lower price, then id
    return (-entry.min_quantity, entry.unit_price, str(entry.id))
