"""Pure quote rules: the status machine (expiry and conversion rules: ``rules.quotes``)."""

from __future__ import annotations

# action -> the statuses it may start from; "expired" is set by ``outpost expire-quotes`` (a
# quote past its validity reads as expired before that); pending_approval -> sent / draft is a
# manager's decision over REST (server.sfa.pricing)
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "send": frozenset({"draft"}),
    "accept": frozenset({"sent"}),
    "reject": frozenset({"sent"}),
    "convert": frozenset({"accepted"}),
}

# fields that make up the offer: frozen once the quote has left draft
OFFER_FIELDS = ("lines", "currency", "order_discount_pct")
