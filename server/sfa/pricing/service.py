"""Server-authoritative pricing of quotes and orders, and the discount authority check.

Every write of a draft quote or order prices its lines with the ``rules/`` engine (the same
code the SDK runs offline) from the account's price lists, at the server's clock; the device's
own unit prices and tax rates never stand. The catalog rows are read in bulk and cached on the
push's session, so a push of many documents reads each product's prices once.
See docs/pricing.md, "Integration".
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import errors as codes
from rules.discount_authority import (
    AuthorityCheck,
    DiscountPolicy,
    approval_fingerprint,
    check_discount_authority,
)
from rules.document_pricing import (
    LineRequest,
    PricedDocument,
    ProductInfo,
    price_document,
    reprice_diff,
    totals_of_lines,
)
from rules.price_resolution import PriceBook, PriceEntry, PriceList, PricingError
from rules.pricing import Line, lines_to_wire, wire_totals
from server.db import utcnow
from server.errors import DomainError, ValidationFailed
from server.sfa.calendar.wire import parse_uuid
from server.sfa.pricing.repository import PricingRepository
from server.sfa.quotes.lines import checked_lines
from server.sync.registry import ActionContext, Principal

# the limit of a role without a ``discount_limits`` row (percent)
DEFAULT_ROLE_LIMITS: dict[str, Decimal] = {
    "rep": Decimal(10),
    "manager": Decimal(25),
    "admin": Decimal(100),
}
# statuses whose lines the server (re)prices on every write: the offer is still open
PRICED_STATUSES = frozenset({"draft", "pending_approval"})
_CACHE_KEY = "outpost.pricing"


class PricingRefused(DomainError):
    """A line the engine cannot price (``no_price``, ``currency_mismatch``, an unknown or
    inactive product): 422 over REST, a rejected mutation over sync, with the code and field."""

    code = codes.NO_PRICE
    status = 422


@dataclass
class _Catalog:
    """What one session has read of the catalog: products and their entries, by product id."""

    products: dict[uuid.UUID, ProductInfo] = field(default_factory=dict)
    lists: dict[uuid.UUID, PriceList] = field(default_factory=dict)
    entries: dict[uuid.UUID, list[PriceEntry]] = field(default_factory=dict)
    loaded: set[uuid.UUID] = field(default_factory=set)
    segments: dict[uuid.UUID, str | None] = field(default_factory=dict)
    policy: DiscountPolicy | None = None


def _text(value: Any) -> str | None:
    # a segment column reads as its enum (or its text); the engine compares plain strings
    return None if value is None else str(getattr(value, "value", value))


def _catalog(session: AsyncSession) -> _Catalog:
    # one cache per session (a push is one session and transaction; devices never write the
    # catalog, so it cannot change under the push)
    info: dict[str, Any] = session.info
    cached = info.get(_CACHE_KEY)
    if cached is None:
        cached = info[_CACHE_KEY] = _Catalog()
    assert isinstance(cached, _Catalog)
    return cached


async def _load(session: AsyncSession, product_ids: set[uuid.UUID]) -> _Catalog:
    catalog = _catalog(session)
    missing = product_ids - catalog.loaded
    if not missing:
        return catalog
    repo = PricingRepository(session)
    for row in await repo.products(missing):
        catalog.products[row.id] = ProductInfo(id=row.id, tax_rate=row.tax_rate, active=row.active)
    for row in await repo.entries_with_lists(missing):
        if row.price_list_id not in catalog.lists:
            catalog.lists[row.price_list_id] = PriceList(
                id=row.price_list_id,
                currency=row.currency,
                account_id=row.account_id,
                segment=_text(row.segment),
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                active=row.active,
            )
        catalog.entries.setdefault(row.product_id, []).append(
            PriceEntry(
                id=row.id,
                price_list_id=row.price_list_id,
                product_id=row.product_id,
                unit_price=row.unit_price,
                min_quantity=row.min_quantity,
            )
        )
    catalog.loaded |= missing
    return catalog


async def _segment(session: AsyncSession, account_id: uuid.UUID) -> str | None:
    catalog = _catalog(session)
    if account_id not in catalog.segments:
        exists, segment = await PricingRepository(session).segment_of(account_id)
        if not exists:
            raise ValidationFailed(f"account {account_id} does not exist", field="account_id")
        catalog.segments[account_id] = segment
    return catalog.segments[account_id]


async def preload(
    session: AsyncSession, product_ids: set[uuid.UUID], segments: dict[uuid.UUID, Any]
) -> None:
    """Read once what pricing the push's documents needs: these products' catalog rows, the
    discount policy; ``segments`` are the accounts' segments as the caller read them."""
    catalog = await _load(session, product_ids)
    for account_id, segment in segments.items():
        catalog.segments.setdefault(account_id, _text(segment))
    await discount_policy(session)


def preloaded(session: AsyncSession, product_ids: set[uuid.UUID], account_id: uuid.UUID) -> bool:
    """True when pricing these products for this account (and checking the discount
    authority) reads nothing more from the database."""
    catalog = _catalog(session)
    return (
        product_ids <= catalog.loaded
        and account_id in catalog.segments
        and catalog.policy is not None
    )


def refusal(error: PricingError) -> DomainError:
    """The engine's refusal as the server's error, with the same code and field."""
    if error.code == codes.VALIDATION_ERROR:
        return ValidationFailed(error.message, field=error.field)
    return PricingRefused(error.message, field=error.field, code=error.code)


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0))
    except ArithmeticError as exc:
        raise ValidationFailed(f"{name} must be a number", field=name) from exc


async def price_record(
    session: AsyncSession, record: dict[str, Any], *, at: dt.datetime | None = None
) -> tuple[list[Line], PricedDocument]:
    """The device's lines of a wire record and the server's pricing of them (at ``at``, the
    server's clock by default); ``ValidationFailed``/``PricingRefused`` naming the bad field."""
    lines = checked_lines(record.get("lines"))
    account_id = parse_uuid(record.get("account_id"), "account_id")
    order_discount = _decimal(record.get("order_discount_pct"), "order_discount_pct")
    catalog = await _load(session, {line.product_id for line in lines})
    segment = await _segment(session, account_id)
    products = {line.product_id for line in lines}
    book = PriceBook(
        catalog.lists.values(),
        (entry for product in products for entry in catalog.entries.get(product, ())),
    )
    requests = [
        LineRequest(
            id=line.id,
            product_id=line.product_id,
            quantity=line.quantity,
            discount_pct=line.discount_pct,
        )
        for line in lines
    ]
    try:
        priced = price_document(
            requests,
            book=book,
            products=catalog.products,
            account_id=account_id,
            segment=segment,
            currency=str(record.get("currency") or "CNY"),
            at=at or utcnow(),
            order_discount_pct=order_discount,
        )
    except PricingError as exc:
        raise refusal(exc) from exc
    return lines, priced


def server_lines(priced: PricedDocument) -> list[Line]:
    """The priced lines as they are stored and sent: the server's unit price, tax rate and
    deciding entry."""
    return [line.to_line() for line in priced.lines]


async def apply_pricing(ctx: ActionContext, record: dict[str, Any]) -> PricedDocument:
    """Price a draft's lines in place (server-owned unit price, tax rate, entry and totals) and
    report, on the mutation's result, each line whose device figures the server changed."""
    device_lines, priced = await price_record(ctx.session, record)
    # a line without figures of its own (no unit price, tax rate or entry: the defaults) is
    # just priced; one whose figures differ from the server's is reported
    sent = {
        line.id
        for line in device_lines
        if line.unit_price != 0 or line.tax_rate != 0 or line.price_entry_id is not None
    }
    for entry in reprice_diff(device_lines, priced.lines):
        if entry.line_id in sent:
            ctx.repriced.append(msgspec.to_builtins(entry))
    record["lines"] = lines_to_wire(server_lines(priced))
    record.update(document_totals(priced))
    return priced


def document_totals(priced: PricedDocument) -> dict[str, str]:
    """``subtotal``, ``tax_total`` and ``total`` of a priced document, as wire fields."""
    return {
        "subtotal": str(priced.subtotal),
        "tax_total": str(priced.tax_total),
        "total": str(priced.total),
    }


def stored_totals(record: dict[str, Any]) -> list[Line]:
    """Totals of a document whose lines are no longer priced (it left draft): a pure function
    of its stored lines and order discount, written in place."""
    lines = checked_lines(record.get("lines"))
    order_discount = _decimal(record.get("order_discount_pct"), "order_discount_pct")
    if not (order_discount.is_finite() and 0 <= order_discount <= 100):
        raise ValidationFailed("a discount is between 0 and 100", field="order_discount_pct")
    record.update(wire_totals(totals_of_lines(lines, order_discount)))
    return lines


async def discount_policy(session: AsyncSession) -> DiscountPolicy:
    """The limits per role (defaults, replaced by ``discount_limits`` rows) and per user."""
    catalog = _catalog(session)
    if catalog.policy is None:
        roles = dict(DEFAULT_ROLE_LIMITS)
        users: dict[uuid.UUID, Decimal] = {}
        for row in await PricingRepository(session).discount_limits():
            if row.user_id is not None:
                users[row.user_id] = row.max_discount_pct
            else:
                roles[row.role] = row.max_discount_pct
        catalog.policy = DiscountPolicy(role_max=roles, user_max=users)
    return catalog.policy


async def authority(
    session: AsyncSession, principal: Principal, priced: PricedDocument, record: dict[str, Any]
) -> AuthorityCheck:
    """Does ``priced`` need a manager's approval for ``principal``? An approval on record
    (``approved_by`` with its ``approval_fingerprint``) covers exactly that priced content."""
    approved = record.get("approval_fingerprint") if record.get("approved_by") else None
    return check_discount_authority(
        priced,
        user_id=principal.user_id,
        role=principal.role,
        policy=await discount_policy(session),
        approved_fingerprint=approved,
    )


def _plain(value: Decimal) -> str:
    # 15.0000 (four stored places) reads 15
    return "0" if value == 0 else format(value.normalize(), "f")


def approval_request(priced: PricedDocument, check: AuthorityCheck) -> dict[str, Any]:
    """The fields of a document that waits for approval of this very priced content."""
    return {
        "status": "pending_approval",
        "approval_reason": check.reason,
        "approval_note": (
            f"a discount of {_plain(check.max_discount_pct)} % is above the limit of "
            f"{_plain(check.limit_pct)} %"
        ),
        "approval_fingerprint": approval_fingerprint(priced),
        "approved_by": None,
        "approved_at": None,
    }


def priced_changes(priced: PricedDocument) -> dict[str, Any]:
    """The lines and totals an action writes after pricing a document."""
    return {"lines": lines_to_wire(server_lines(priced)), **document_totals(priced)}


WITHDRAWN: dict[str, Any] = {
    "status": "draft",
    "approval_reason": None,
    "approval_fingerprint": None,
    "approved_by": None,
    "approved_at": None,
}
