"""The error body every non-2xx response carries, and the stable codes clients switch on."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """``{code, message, field?, data?}``: the only shape of an error on the wire."""

    code: str
    message: str
    field: str | None = None
    data: dict[str, Any] | None = None


# HTTP-level codes
BAD_REQUEST = "bad_request"
MALFORMED_BODY = "malformed_body"
VALIDATION_ERROR = "validation_error"
UNKNOWN_FIELD = "unknown_field"
PAYLOAD_TOO_LARGE = "payload_too_large"
NOT_AUTHENTICATED = "not_authenticated"
TOKEN_EXPIRED = "token_expired"
TOKEN_REVOKED = "token_revoked"
INVALID_CREDENTIALS = "invalid_credentials"
DEVICE_DEACTIVATED = "device_deactivated"
USER_DEACTIVATED = "user_deactivated"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
VERSION_MISMATCH = "version_mismatch"
UPGRADE_REQUIRED = "upgrade_required"
TOO_MANY_ATTEMPTS = "too_many_attempts"
INTERNAL_ERROR = "internal_error"
OVERLOADED = "overloaded"  # 503 with Retry-After: the server is at its concurrency limit

# Sync codes (per mutation or per request)
MUTATION_GAP = "mutation_gap"
MUTATION_REUSED = "mutation_reused"
UNKNOWN_ENTITY = "unknown_entity"
UNKNOWN_ACTION = "unknown_action"
OUT_OF_SCOPE = "out_of_scope"
NOT_HELD = "not_held"
READ_ONLY_ENTITY = "read_only_entity"
SERVER_OWNED_FIELD = "server_owned_field"
RECORD_EXISTS = "record_exists"
RECORD_DELETED = "record_deleted"
INVALID_STATE = "invalid_state"
INVALID_CURSOR = "invalid_cursor"
CURSOR_EXPIRED = "cursor_expired"
DOMAIN_RULE = "domain_rule"
RECEIPT_EXPIRED = "receipt_expired"
NOT_DELETABLE = "not_deletable"
IN_USE = "in_use"  # a record others depend on (a parent whose children do not cascade)

# Visit codes (docs/visits.md)
TIME_IN_FUTURE = "time_in_future"  # a check-in/out time beyond the server's clock + skew
BEFORE_PLAN = "before_plan"  # a check-in earlier than the visit's plan allows
MAKEUP_REASON_REQUIRED = "makeup_reason_required"  # a make-up check-in without its reason

# Commerce codes (the pricing engine in rules/, docs/pricing.md)
NO_PRICE = "no_price"
CURRENCY_MISMATCH = "currency_mismatch"
UNKNOWN_PRODUCT = "unknown_product"
INACTIVE_PRODUCT = "inactive_product"
BASE_VERSION_AHEAD = "base_version_ahead"

# Expense codes (docs/purchasing.md, "Expense reports")
# a line's receipt_attachment_id naming no receipt of the report's owner (missing, deleted,
# another rep's, or not an expense receipt)
UNKNOWN_RECEIPT = "unknown_receipt"

# Quote codes (docs/orders.md, "Quotes")
QUOTE_EXPIRED = "quote_expired"  # send or accept of a quote past its valid_until
ALREADY_CONVERTED = "already_converted"  # a second quote.convert; data.order_id is the order
PERIOD_CLOSED = "period_closed"  # commissions: a change that would reach into a closed period
