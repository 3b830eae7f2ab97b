"""Pure quote rules: the status machine."""

from __future__ import annotations

import datetime as dt

# action -> the statuses it may start from; "expired" is set by the scheduler, not by a device;
# pending_approval -> sent / draft is a manager's decision over REST (server.sfa.pricing)
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "send": frozenset({"draft"}),
    "accept": frozenset({"sent"}),
    "reject": frozenset({"sent"}),
}

# fields that make up the offer: frozen once the quote has left draft
OFFER_FIELDS = ("lines", "currency", "order_discount_pct")


def is_expired(valid_until: dt.date | None, today: dt.date) -> bool:
    """True when a quote's validity ended before ``today``."""
    return valid_until is not None and valid_until < today
