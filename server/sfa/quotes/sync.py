"""The ``quote`` syncable entity: one record with its lines; totals always computed here."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from protocol.errors import INVALID_STATE
from rules.pricing import Line, document_totals
from server.db import utcnow
from server.errors import Conflict, ValidationFailed
from server.sfa.calendar.wire import AwareDateTime, check_owner, ensure_transition, typed
from server.sfa.quotes.lines import apply_totals
from server.sfa.quotes.models import Quote, QuoteStatus
from server.sfa.quotes.rules import ALLOWED_FROM, OFFER_FIELDS, is_expired
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ENGINE_FIELDS, ActionContext, EntitySpec, Policy

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
TOTAL_FIELDS = frozenset({"subtotal", "tax_total", "total"})


class QuoteRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A quote with its lines on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    number: Annotated[str, msgspec.Meta(max_length=40)] = ""
    status: QuoteStatus = QuoteStatus.DRAFT
    currency: Currency = "CNY"
    valid_until: dt.date | None = None
    lines: Annotated[list[Line], msgspec.Meta(max_length=500)] = []
    subtotal: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    notes: str = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None

    def __post_init__(self) -> None:
        # Totals are a pure function of the lines: every record built (from a row, a payload or
        # a device's input) carries the server's figures, in cents on both backends.
        totals = document_totals(self.lines)
        self.subtotal, self.tax_total, self.total = totals.subtotal, totals.tax_total, totals.total


def ensure_offer_editable(
    entity: str, record: dict[str, Any], old: dict[str, Any] | None, fields: tuple[str, ...]
) -> None:
    """Refuse a change of the priced content (and of the customer: ``account_id``, passed in
    ``fields`` by both documents) once a document has left draft."""
    if old is None or old.get("status") == "draft":
        return
    for name in fields:
        if record.get(name) != old.get(name):
            raise Conflict(
                f"{name} of a {entity} cannot change once it is {old.get('status')}",
                field=name,
                code=INVALID_STATE,
                data={"status": old.get("status")},
            )


async def validate_quote(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check a quote after a merge and recompute its totals from its lines."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id")
    quote = typed(record, QuoteRecord)
    if quote.account_id is None:
        raise ValidationFailed("account_id is required", field="account_id")
    ensure_offer_editable("quote", record, old, ("account_id", *OFFER_FIELDS))
    apply_totals(record)


async def send(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``quote.send``: a draft with at least one line goes to the customer."""
    ensure_transition("quote", "send", str(current.get("status")), ALLOWED_FROM)
    if not current.get("lines"):
        raise ValidationFailed("a quote without lines cannot be sent", field="lines")
    return {"status": QuoteStatus.SENT.value}


async def accept(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``quote.accept``: the customer took a sent quote that is still valid."""
    ensure_transition("quote", "accept", str(current.get("status")), ALLOWED_FROM)
    valid_until = typed(current, QuoteRecord).valid_until
    if is_expired(valid_until, utcnow().date()):
        raise Conflict(
            f"the quote expired on {valid_until}",
            field="valid_until",
            code=INVALID_STATE,
            data={"status": current.get("status"), "valid_until": str(valid_until)},
        )
    return {"status": QuoteStatus.ACCEPTED.value}


async def reject(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``quote.reject``: the customer declined a sent quote."""
    ensure_transition("quote", "reject", str(current.get("status")), ALLOWED_FROM)
    return {"status": QuoteStatus.REJECTED.value}


def quote_spec() -> EntitySpec:
    """The sync registration of quotes; ``lines`` is one field, last writer wins as a whole."""
    return EntitySpec(
        name="quote",
        table=Quote.__table__,  # type: ignore[arg-type]
        record_type=QuoteRecord,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        server_fields=ENGINE_FIELDS | {"status"} | TOTAL_FIELDS,
        policies={"notes": Policy.APPEND, "status": Policy.SERVER_WINS}
        | {name: Policy.SERVER_WINS for name in TOTAL_FIELDS},
        actions={"send": send, "accept": accept, "reject": reject},
        validate=validate_quote,
    )
