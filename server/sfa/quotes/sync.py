"""The ``quote`` syncable entity: one record with its lines; totals always computed here."""

from __future__ import annotations

import functools
from typing import Any

from protocol.entities import NoParams
from protocol.entities.documents import QUOTE, TOTAL_FIELDS, QuoteRecord, QuoteStatus
from protocol.errors import INVALID_STATE
from rules.discount_authority import approval_fingerprint
from rules.quotes import QuoteRefusal, as_read, check_action_in_time, company_today
from server.db import utcnow
from server.errors import Conflict, DomainError, ValidationFailed
from server.settings import Settings
from server.sfa.calendar.wire import (
    check_owner,
    check_record,
    delete_guard,
    ensure_transition,
    typed,
)
from server.sfa.pricing.service import (
    PRICED_STATUSES,
    WITHDRAWN,
    apply_pricing,
    approval_request,
    authority,
    stored_totals,
)
from server.sfa.quotes.models import Quote
from server.sfa.quotes.rules import ALLOWED_FROM, OFFER_FIELDS
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ActionContext, EntitySpec, Policy

__all__ = ["TOTAL_FIELDS", "QuoteRecord", "quote_spec"]


def ensure_offer_editable(
    entity: str, record: dict[str, Any], old: dict[str, Any] | None, fields: tuple[str, ...]
) -> None:
    """Refuse a change of the priced content (and of the customer: ``account_id``, passed in
    ``fields`` by both documents) once a document has left draft (a document waiting for a
    discount approval may still be revised: ``price_draft`` withdraws the request then)."""
    if old is None or old.get("status") in PRICED_STATUSES:
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
    """Check a quote after a merge; price a draft's lines, or total a sent quote's."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id")
    check_record(typed(record, QuoteRecord))
    ensure_offer_editable("quote", record, old, ("account_id", *OFFER_FIELDS))
    await price_draft(ctx, record)


async def price_draft(ctx: ActionContext, record: dict[str, Any]) -> None:
    """Price an open document's lines (server-owned figures) in place, or total a closed one's.

    A document waiting for approval whose priced content changed (its lines, its discount, or
    a repricing) returns to draft: the request covered other content, the next send asks again.
    """
    if (record.get("status") or "draft") not in PRICED_STATUSES:
        stored_totals(record)
        return
    priced = await apply_pricing(ctx, record)
    if record.get("status") == "pending_approval" and approval_fingerprint(priced) != record.get(
        "approval_fingerprint"
    ):
        record.update(WITHDRAWN)


def refusal(exc: QuoteRefusal) -> DomainError:
    """A shared quote rule's refusal as the server's 409, with its code, field and data."""
    return Conflict(exc.message, field=exc.field, code=exc.code, data=exc.data)


def ensure_in_time(action: str, current: dict[str, Any], zone: str) -> None:
    """Refuse an action on a quote past its validity (``quote_expired``, 409), whether or not
    ``outpost expire-quotes`` has written the status yet (today in the company's time zone)."""
    try:
        check_action_in_time(action, current, company_today(utcnow(), zone))
    except QuoteRefusal as exc:
        raise refusal(exc) from exc


async def send(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any], *, zone: str = "UTC"
) -> dict[str, Any]:
    """``quote.send``: a draft with at least one line, priced now, goes to the customer, or
    waits in ``pending_approval`` when its discount is above the sender's authority."""
    ensure_in_time("send", current, zone)
    ensure_transition("quote", "send", str(current.get("status")), ALLOWED_FROM)
    typed(params, NoParams)
    if not current.get("lines"):
        raise ValidationFailed("a quote without lines cannot be sent", field="lines")
    record = dict(current)
    priced = await apply_pricing(ctx, record)
    changes = {name: record[name] for name in ("lines", *TOTAL_FIELDS)}
    check = await authority(ctx.session, ctx.principal, priced, current)
    if check.needs_approval:
        return {**changes, **approval_request(priced, check)}
    return {**changes, "status": QuoteStatus.SENT.value}


async def accept(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any], *, zone: str = "UTC"
) -> dict[str, Any]:
    """``quote.accept``: the customer took a sent quote that is still valid."""
    ensure_in_time("accept", current, zone)
    ensure_transition("quote", "accept", str(current.get("status")), ALLOWED_FROM)
    typed(params, NoParams)
    return {"status": QuoteStatus.ACCEPTED.value}


async def reject(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``quote.reject``: the customer declined a sent quote."""
    ensure_transition("quote", "reject", str(current.get("status")), ALLOWED_FROM)
    typed(params, NoParams)
    return {"status": QuoteStatus.REJECTED.value}


def read_now(record: dict[str, Any], *, zone: str) -> dict[str, Any]:
    """A stored quote as it reads at this moment: ``expired`` once its validity ended."""
    return as_read(record, company_today(utcnow(), zone))


def quote_spec(settings: Settings | None = None) -> EntitySpec:
    """The sync registration of quotes; ``lines`` is one field, last writer wins as a whole.
    Validity ends with ``valid_until`` in the company's time zone (a setting)."""
    from server.sfa.quotes.conversion import convert  # it builds on the order entity's module

    zone = (settings or Settings()).company_timezone
    return EntitySpec.of(
        QUOTE,
        table=Quote.__table__,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        policies={"notes": Policy.APPEND, "status": Policy.SERVER_WINS}
        | {name: Policy.SERVER_WINS for name in (*TOTAL_FIELDS, "order_id")},
        actions={
            "send": functools.partial(send, zone=zone),
            "accept": functools.partial(accept, zone=zone),
            "reject": reject,
            "convert": convert,
        },
        validate=validate_quote,
        may_delete=delete_guard(QUOTE),
        served_as=functools.partial(read_now, zone=zone),
    )
