"""Discount authority: how much discount a user may give alone, and what an approval covers.

A document whose largest effective discount (a line's discount followed by the order discount)
is above the seller's limit waits for approval with the reason; an approval records the
document's fingerprint, and a document whose priced content changed since is asked again.
See docs/pricing.md, "Discount authority".
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

import msgspec

from rules.document_pricing import PricedDocument, effective_discount_pct

DISCOUNT_ABOVE_AUTHORITY = "discount_above_authority"
FINGERPRINT_VERSION = "pricing-approval-v1"


def _check_limit(value: Decimal, what: str) -> None:
    if not (value.is_finite() and 0 <= value <= 100):
        raise ValueError(f"the discount limit of {what} must be between 0 and 100")


class DiscountPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Maximum discount (percent) per role, and per-user overrides that replace their role's."""

    role_max: dict[str, Decimal] = msgspec.field(default_factory=dict)
    user_max: dict[uuid.UUID, Decimal] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, limit in self.role_max.items():
            _check_limit(limit, f"role {role}")
        for user_id, limit in self.user_max.items():
            _check_limit(limit, f"user {user_id}")

    def limit_for(self, user_id: uuid.UUID, role: str) -> Decimal:
        """The user's own limit if set (higher or lower), else the role's, else 0."""
        if user_id in self.user_max:
            return self.user_max[user_id]
        return self.role_max.get(role, Decimal(0))


class AuthorityCheck(msgspec.Struct, frozen=True, kw_only=True):
    """Whether a document needs approval, why, and the figures the decision rests on."""

    needs_approval: bool
    reason: str | None  # discount_above_authority, or None
    field: str | None  # the line (lines[i].discount_pct) or order_discount_pct over the limit
    limit_pct: Decimal
    max_discount_pct: Decimal  # the largest effective discount of the document
    approved: bool  # above the limit, but covered by an approval of this very content
    message: str | None = None


def check_discount_authority(
    document: PricedDocument,
    *,
    user_id: uuid.UUID,
    role: str,
    policy: DiscountPolicy,
    approved_fingerprint: str | None = None,
) -> AuthorityCheck:
    """Compare the document's largest effective discount with the seller's limit.

    A discount equal to the limit is within it. ``approved_fingerprint`` is the fingerprint an
    approval recorded: when it matches the document, the discount above the limit stands.
    """
    limit = policy.limit_for(user_id, role)
    order_pct = document.order_discount_pct
    effective = [effective_discount_pct(line.discount_pct, order_pct) for line in document.lines]
    worst = max([order_pct, *effective])
    if worst <= limit:
        return AuthorityCheck(
            needs_approval=False,
            reason=None,
            field=None,
            limit_pct=limit,
            max_discount_pct=worst,
            approved=False,
        )
    if order_pct > limit:
        field = "order_discount_pct"  # the order discount alone is over the limit
    else:  # the first line with the largest discount
        field = f"lines[{effective.index(worst)}].discount_pct"
    approved = approved_fingerprint is not None and approved_fingerprint == approval_fingerprint(
        document
    )
    return AuthorityCheck(
        needs_approval=not approved,
        reason=None if approved else DISCOUNT_ABOVE_AUTHORITY,
        field=None if approved else field,
        limit_pct=limit,
        max_discount_pct=worst,
        approved=approved,
        message=None if approved else f"a discount of {worst} % is above the limit of {limit} %",
    )


def _canonical(value: Decimal) -> str:
    # 2, 2.0 and 2.00 are one quantity; -0 is 0
    return "0" if value == 0 else format(value.normalize(), "f")


def approval_fingerprint(document: PricedDocument) -> str:
    """A digest of the priced content an approval covers (independent of line order and ids).

    It covers the account, the currency, the order discount, and per line the product,
    quantity, unit price, line discount and tax rate (so also every figure derived from them).
    """
    lines = sorted(
        (
            str(line.product_id),
            _canonical(line.quantity),
            _canonical(line.unit_price),
            _canonical(line.discount_pct),
            _canonical(line.tax_rate),
        )
        for line in document.lines
    )
    content = [
        FINGERPRINT_VERSION,
        str(document.account_id),
        document.currency,
        _canonical(document.order_discount_pct),
        lines,
    ]
    return hashlib.sha256(msgspec.json.encode(content)).hexdigest()
