"""Accounts and contacts as syncable entities: wire records, scope keys, conflict policies."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.accounts import ACCOUNT, CONTACT
from protocol.sync import Mutation
from rules.territory_rules import RULE_FIELDS, AssignmentCause
from server.db import utcnow
from server.errors import Forbidden, ValidationFailed
from server.sfa.accounts.assignment import (
    AssignmentRepository,
    apply_verdict,
    push_rules,
    push_visibility,
    rule_verdict,
)
from server.sfa.accounts.models import Account, Contact
from server.sfa.scopes import account_key
from server.sync.registry import ActionContext, EntitySpec, Policy

_accounts = cast(sa.Table, Account.__table__)

# Credit, blacklist and assignment are decided by managers and the back office, never a device.
ACCOUNT_SERVER_FIELDS = ACCOUNT.server_fields


async def validate_account(
    ctx: ActionContext, record: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """Push-time rule: a rep creating an account offline may only make it theirs, unrated.

    A create may carry ``owner_id`` and ``territory_id`` (the engine then checks the new record's
    scope key is one of the rep's); without ``owner_id`` the rep who pushed it owns it. Credit
    fields stay at their defaults.
    """
    if before is None and ctx.principal.role not in ("manager", "admin"):
        _check_rep_create(ctx, record)
    await assign_on_push(ctx, record, before)


def _check_rep_create(ctx: ActionContext, record: dict[str, Any]) -> None:
    owner = record.get("owner_id")
    if owner is None:
        record["owner_id"] = str(ctx.principal.user_id)
    elif str(owner) != str(ctx.principal.user_id):
        raise Forbidden("a new account can only be owned by its creator", field="owner_id")
    for name in ("credit_limit", "arrears"):
        if decimal.Decimal(str(record.get(name) or 0)) != 0:
            raise Forbidden(f"{name} is set by managers", field=name)
    if record.get("blacklisted"):
        raise Forbidden("blacklisted is set by managers", field="blacklisted")


async def assign_on_push(
    ctx: ActionContext, record: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """The assignment rules on a pushed create or edit, in the push's transaction.

    A create is placed by the first matching rule unless a manager gave a territory or owner
    (manual); an edit of a field the rules read re-applies them unless the account's current
    assignment is manual. A rule only places the account inside the pusher's reach (a rep never
    moves an account into another territory); the history row is written here (the entity is
    ``validator_writes``: a rejection later in the mutation rolls it back).
    """
    repo = AssignmentRepository(ctx.session)
    manager = ctx.principal.role in ("manager", "admin")
    if before is not None and all(record.get(name) == before.get(name) for name in RULE_FIELDS):
        return  # an edit of nothing the rules read: not even the rules are read
    rules = await push_rules(ctx.session)
    if before is not None:
        if not rules:  # no rule can move it: nothing to place, nothing to record
            return
        if await repo.is_manual(uuid.UUID(str(record["id"]))):
            return
    manual = (
        before is None
        and manager
        and (record.get("territory_id") is not None or record.get("owner_id") is not None)
    )
    verdict = None
    if not manual:
        verdict = (
            await rule_verdict(
                ctx.session, record, await push_visibility(ctx.session, ctx.principal), rules
            )
            if rules
            else None
        )
    changes = apply_verdict(verdict, record) if verdict is not None else {}
    record.update({name: str(value) for name, value in changes.items()})
    if before is not None and not changes:
        return  # the rules keep it where it is: nothing to record
    if manual:
        cause = AssignmentCause.MANUAL
    elif verdict is not None:
        cause = AssignmentCause.RULE
    else:
        cause = AssignmentCause.DEFAULT
    await repo.record(
        uuid.UUID(str(record["id"])),
        record.get("territory_id"),
        record.get("owner_id"),
        cause=cause,
        rule_id=verdict.rule_id if verdict is not None else None,
        by=ctx.principal.user_id,
        now=utcnow(),
    )


async def account_scope(_: AsyncSession, record: Mapping[str, Any]) -> str:
    """``t:<territory>`` / ``u:<owner>`` / ``unassigned`` from the record itself."""
    return account_key(record.get("territory_id"), record.get("owner_id"))


async def account_scope_key(session: AsyncSession, account_id: Any) -> str:
    """The current scope key of an account, read with one primary-key query.

    Records living under an account (contacts, visits, orders, ...) share this key.
    """
    account_uuid = account_id if isinstance(account_id, uuid.UUID) else uuid.UUID(str(account_id))
    row = (
        await session.execute(
            sa.select(_accounts.c.territory_id, _accounts.c.owner_id).where(
                _accounts.c.id == account_uuid
            )
        )
    ).first()
    if row is None:
        raise ValidationFailed(f"account {account_id} does not exist", field="account_id")
    return account_key(row.territory_id, row.owner_id)


async def account_scope_keys(
    session: AsyncSession, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Scope keys of many accounts in one query (for bulk writes of child records)."""
    ids = list(set(account_ids))
    statement = sa.select(_accounts.c.id, _accounts.c.territory_id, _accounts.c.owner_id).where(
        _accounts.c.id.in_(ids)
    )
    rows = (await session.execute(statement)).all()
    return {row.id: account_key(row.territory_id, row.owner_id) for row in rows}


async def contact_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """A contact goes wherever its account goes."""
    return await account_scope_key(session, record["account_id"])


async def assignment_may_write(session: AsyncSession, mutation: Mutation) -> bool:
    """Whether ``assign_on_push`` may write a history row for this mutation: a create does (its
    first assignment); an edit only when it changes a field the rules read and rules exist.
    Other account edits stay queued with the push's batch."""
    if mutation.base_version == 0:
        return True
    if RULE_FIELDS.isdisjoint(mutation.changes):
        return False
    return bool(await push_rules(session))


def account_specs() -> list[EntitySpec]:
    """The ``account`` and ``contact`` entities."""
    return [
        # not deletable from a device; create-only owner_id/territory_id: see validate_account
        EntitySpec.of(
            ACCOUNT,
            table=_accounts,
            scope=account_scope,
            scope_fields=frozenset({"territory_id", "owner_id"}),
            policies={"notes": Policy.APPEND},
            validate=validate_account,
            validator_writes=assignment_may_write,  # the ownership history (assign_on_push)
        ),
        EntitySpec.of(
            CONTACT,
            table=cast(sa.Table, Contact.__table__),
            scope=contact_scope,
            policies={"notes": Policy.APPEND},
            parent=("account", "account_id"),
            cascade_delete=True,  # a customer's people go with it
        ),
    ]
