"""``POST /sync/push``: a device's mutations, each applied exactly once and in order.

The device row is locked for the request, so two pushes of one device serialize. Mutations at
or below the device's last applied number replay their stored result; new ones must continue
the sequence without a gap. A rejected mutation writes nothing, uses up its number, and never
blocks the ones after it.

Creates and edits are computed in memory and written together at the end (executemany per
entity); deletes and actions flush what is queued and run in a SAVEPOINT. If the database refuses
a queued write, the push is redone with every mutation in its own SAVEPOINT, flushed one by one.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import errors as codes
from protocol.errors import ErrorBody
from protocol.sync import Mutation, MutationResult, PushRequest, PushResponse
from server.db import Database
from server.errors import Conflict, DomainError, PayloadTooLarge
from server.settings import Settings
from server.sync import devices
from server.sync.apply import MutationApplier, Rejected
from server.sync.keysets import KeysetStore
from server.sync.pull import check_request
from server.sync.registry import Principal, SyncRegistry
from server.sync.scope_cache import ScopeCache, ScopeKeys
from server.sync.writer import ChangeWriter

log = logging.getLogger("outpost.sync")
DB_REFUSED = (
    "the database refused this change: a value is not allowed there "
    "(for example a reference to a record that does not exist)"
)
INTERNAL = "the server could not apply this mutation; it was rejected and nothing was written"


class PushService:
    """Applies pushed mutations."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: SyncRegistry,
        writer: ChangeWriter,
        keysets: KeysetStore,
        scopes: ScopeCache | None = None,
    ) -> None:
        self.db, self.settings, self.registry = db, settings, registry
        self.writer, self.keysets = writer, keysets
        self.scopes = ScopeKeys(registry, scopes)

    async def push(self, principal: Principal, request: PushRequest) -> PushResponse:
        """Apply new mutations, replay known ones; results in the request's order."""
        check_request(principal, request.device_id, request.schema_version)
        limit = self.settings.sync_push_max_mutations
        if len(request.mutations) > limit:
            raise PayloadTooLarge(
                f"at most {limit} mutations per push", field="mutations", data={"max": limit}
            )
        # the scope epoch is read before the transaction opens, as a pull does
        epoch = await self.scopes.epoch()
        try:
            return await self._push(principal, request, epoch, safe=False)
        except _Unsafe:
            # A write failed where no SAVEPOINT guarded it: the whole transaction is gone, so
            # the push is applied again from the start, with a SAVEPOINT around every mutation.
            return await self._push(principal, request, epoch, safe=True)

    async def _push(
        self, principal: Principal, request: PushRequest, epoch: int | None, *, safe: bool
    ) -> PushResponse:
        device_id = request.device_id
        async with self.db.transaction() as session:
            last_mid, keyset = await devices.lock_device(session, device_id, principal.user_id)
            old = [m for m in request.mutations if m.mid <= last_mid]
            new = [m for m in request.mutations if m.mid > last_mid]
            for offset, mutation in enumerate(new):
                if mutation.mid != last_mid + 1 + offset:
                    raise Conflict(
                        f"mutation {mutation.mid} does not follow {last_mid + offset}",
                        field="mutations",
                        code=codes.MUTATION_GAP,
                        data={"resend_from": last_mid + 1},
                    )
            results = await self._replay(session, device_id, old)
            reused = [m.mid for m in old if _code(results[m.mid]) == codes.MUTATION_REUSED]
            if reused and new:
                # The device numbers new mutations with numbers it already used (a phone restored
                # from a backup): applying the numbers above last_mid now would put them before
                # the reused ones, which the device renumbers above last_mid and sends again.
                raise Conflict(
                    f"mutation {reused[0]} reuses a number already applied; the last applied is "
                    f"{last_mid}",
                    field="mutations",
                    code=codes.MUTATION_REUSED,
                    data={"last_mid": last_mid, "first_reused": reused[0]},
                )
            if new:
                results.update(
                    await self._apply(session, principal, new, old, keyset, epoch, safe)
                )
                last_mid = new[-1].mid  # stored with the receipts
        return PushResponse(results=[results[m.mid] for m in request.mutations], last_mid=last_mid)

    async def _replay(
        self, session: AsyncSession, device_id: uuid.UUID, mutations: list[Mutation]
    ) -> dict[int, MutationResult]:
        stored = await devices.load_receipts(session, device_id, [m.mid for m in mutations])
        results: dict[int, MutationResult] = {}
        for mutation in mutations:
            receipt = stored.get(mutation.mid)
            if receipt is not None and receipt[0] == devices.body_hash(mutation):
                results[mutation.mid] = receipt[1]
            elif receipt is None:
                results[mutation.mid] = _rejected(
                    mutation.mid,
                    codes.RECEIPT_EXPIRED,
                    "mutation number already used; its receipt has expired",
                )
            else:
                results[mutation.mid] = _rejected(
                    mutation.mid,
                    codes.MUTATION_REUSED,
                    "mutation number already used by a different mutation",
                )
        return results

    async def _apply(
        self,
        session: AsyncSession,
        principal: Principal,
        mutations: list[Mutation],
        replayed: list[Mutation],
        keyset: str | None,
        epoch: int | None,
        safe: bool,
    ) -> dict[int, MutationResult]:
        keys = await self.scopes.keys(session, principal, epoch)
        served = (await self.keysets.get(session, keyset) if keyset else None) or frozenset()
        applier = MutationApplier(
            session,
            self.registry,
            self.writer,
            principal,
            keys,
            served,
            max_clock_skew_ms=self.settings.sync_max_clock_skew_seconds * 1000,
        )
        results: dict[int, MutationResult] = {}
        receipts: list[tuple[bytes, MutationResult]] = []
        async with self.writer.batch(session):
            await applier.prefetch(mutations, replayed)
            for mutation in mutations:
                result = await self._apply_one(session, applier, mutation, safe)
                results[mutation.mid] = result
                receipts.append((devices.body_hash(mutation), result))
            try:
                await applier.finish()
            except Exception as exc:  # a queued write the database (or a bind) refused
                raise _Unsafe from exc
        refused = _refused_ids(applier, mutations, results)
        await devices.store_receipts(
            session, principal.device_id or uuid.UUID(int=0), mutations[0].mid, receipts, refused
        )
        return results

    async def _apply_one(
        self, session: AsyncSession, applier: MutationApplier, mutation: Mutation, safe: bool
    ) -> MutationResult:
        """One mutation, all or nothing. Creates and edits are checked, then queued, so they
        need no SAVEPOINT; in safe mode each one is flushed inside its own."""
        batch = applier.batch
        guarded = safe or await applier.risky(mutation)
        if guarded and not safe:
            try:  # earlier mutations' queued writes go first, outside this one's SAVEPOINT
                await applier.flush()
            except Exception as exc:
                raise _Unsafe from exc
        mark, pending = batch.mark(), applier.mark()
        savepoint = await session.begin_nested() if guarded else None
        applier.wrote = False
        try:
            result = await applier.apply(mutation)
            if safe:
                await applier.flush()
        except (DomainError, Rejected) as exc:
            if savepoint is not None:
                await savepoint.rollback()
            elif applier.wrote:
                raise _Unsafe from exc
            batch.rollback(mark)
            applier.rollback(pending)
            return await applier.rejection(mutation, exc)
        except DBAPIError as exc:  # a constraint the domain did not check first
            if savepoint is None:
                raise _Unsafe from exc
            await savepoint.rollback()
            batch.rollback(mark)
            applier.rollback(pending)
            # the database's text names constraints, tables and values: it stays in the log
            log.warning("push mutation %s refused by the database: %s", mutation.mid, exc.orig)
            return await applier.rejection(mutation, Rejected(codes.VALIDATION_ERROR, DB_REFUSED))
        except Exception as exc:  # noqa: BLE001 - one bad mutation harms only itself
            if savepoint is not None:
                await savepoint.rollback()
            elif applier.wrote:
                raise _Unsafe from exc
            batch.rollback(mark)
            applier.rollback(pending)
            return await applier.rejection(mutation, _unexpected(mutation, exc))
        if savepoint is not None:
            await savepoint.commit()
        applier.remember(batch.ops[mark[0] :])
        return result


class _Unsafe(Exception):
    """An unguarded mutation failed after writing: redo the push with savepoints."""


def _refused_ids(
    applier: MutationApplier, mutations: list[Mutation], results: dict[int, MutationResult]
) -> list[uuid.UUID]:
    """Missing records the push's rejected mutations named: a later upsert of one is an edit of
    a refused create, not a create (the only ids "named before" that decide anything; a record
    that exists, or has a tombstone, answers for itself)."""
    return sorted(
        {
            m.id
            for m in mutations
            if results[m.mid].status == "rejected" and applier.records.get((m.entity, m.id)) is None
        }
    )


def _code(result: MutationResult) -> str | None:
    return result.error.code if result.error is not None else None


def _rejected(mid: int, code: str, message: str) -> MutationResult:
    return MutationResult(mid=mid, status="rejected", error=ErrorBody(code=code, message=message))


def _unexpected(mutation: Mutation, exc: Exception) -> Rejected:
    """The rejection of a mutation that raised something no rule expected: logged in full,
    answered with a generic message (``validation_error`` for arithmetic on a bad value)."""
    log.error(
        "push mutation %s (%s %s %s) failed",
        mutation.mid,
        mutation.entity,
        mutation.op,
        mutation.id,
        exc_info=exc,
    )
    if isinstance(exc, ArithmeticError):
        return Rejected(codes.VALIDATION_ERROR, "a value is outside the range the server computes")
    return Rejected(codes.INTERNAL_ERROR, INTERNAL, with_record=False)
