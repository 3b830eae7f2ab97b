"""``POST /sync/pull``: changes in the caller's scope since the cursor, in log order.

Two phases. The stream returns rows under the user's keys after the cursor's position. When the
user's keyset differs from the one the cursor was served with, a catch-up phase first evicts
what the removed keys held and sends what the added keys held up to the stream position, then
the stream continues from where it was with the new keyset (no full re-download).

A pull with nothing new, or a page of the stream, costs the scope-key query and one log
statement (which also reads the visibility ceiling and the pruning horizon). On PostgreSQL the
reads run in autocommit on one pooled connection: every statement of a READ COMMITTED
transaction takes its own snapshot anyway, and the ceiling of the first statement is passed to
the later ones, so a transaction would only add BEGIN and COMMIT round trips. On SQLite a pull
reads one snapshot without the writer's lock, so pulls never queue behind a push.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.sync import SUPPORTED_SCHEMA_VERSIONS, PullRequest
from server.db import Database, utcnow
from server.errors import Forbidden, UpgradeRequired, ValidationFailed
from server.settings import Settings
from server.sync import logreader
from server.sync.cursor import FORMAT, CursorState, decode_cursor, encode_cursor
from server.sync.keysets import KeysetStore
from server.sync.logreader import Batch, LogRow
from server.sync.models import sync_devices
from server.sync.position import START, Position
from server.sync.registry import Principal, SyncRegistry
from server.sync.scope_cache import ScopeCache, ScopeKeys
from server.sync.sql import upsert

# (entity, id, op, version, payload JSON or None); the id is the canonical UUID string as read
# from the log (typed Any: it is spliced into the body as it is, never parsed)
ChangeRow = tuple[str, Any, str, int, str | None]
# what a change costs in a page beyond its record's JSON (entity, id, op, version, punctuation)
CHANGE_OVERHEAD_BYTES = 100

# A pull that could serve nothing but changes held back by an open log writer polls this often,
# this long in all, before it answers ``has_more: true`` with no changes.
HELD_BACK_POLL = 0.02
HELD_BACK_WAIT = 0.2


@dataclass
class PullPage:
    """One pull's answer, before it is encoded as JSON or MessagePack."""

    changes: list[ChangeRow] = field(default_factory=list)
    cursor: str = ""
    has_more: bool = False
    reset: bool = False
    progress: dict[str, int] | None = None
    size: int = 0  # bytes of the changes so far (records' JSON plus a fixed overhead each)

    def fit(self, rows: list[LogRow], budget: int, sends: Callable[[LogRow], bool]) -> int:
        """How many of ``rows`` (in order) the page can still take within ``budget`` bytes;
        an empty page always takes its first row. ``sends`` tells which rows carry their
        record. Counts what it takes into ``size``."""
        for index, row in enumerate(rows):
            cost = CHANGE_OVERHEAD_BYTES
            payload = row.payload
            if payload is not None and sends(row):
                cost += len(payload) if payload.isascii() else len(payload.encode())
            if self.size + cost > budget and (index or self.changes):
                return index
            self.size += cost
        return len(rows)

    # committed changes exist that an open log writer keeps below the ceiling (has_more is set)
    held_back: bool = False


@dataclass
class _Reads:
    """The ceiling every statement of one pull uses (the first statement's), and the largest
    pruning horizon any of them saw."""

    ceiling: int | None = None
    horizon: Position = START

    def saw(self, batch: Batch) -> list[LogRow]:
        if self.ceiling is None:
            self.ceiling = batch.ceiling
        self.horizon = max(self.horizon, batch.horizon)
        return batch.rows


def check_request(principal: Principal, device_id: uuid.UUID, schema_version: int) -> None:
    """The device must be the token's, and the schema version one the server speaks."""
    if principal.device_id != device_id:
        raise Forbidden("device_id is not the device of this token", field="device_id")
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise UpgradeRequired(
            f"schema version {schema_version} is not supported",
            field="schema_version",
            data={"supported": sorted(SUPPORTED_SCHEMA_VERSIONS)},
        )


class PullService:
    """Serves pulls; holds nothing per device (the cursor carries the state)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: SyncRegistry,
        keysets: KeysetStore,
        scopes: ScopeCache | None = None,
    ) -> None:
        self.db, self.settings, self.registry, self.keysets = db, settings, registry, keysets
        self.scopes = ScopeKeys(registry, scopes)

    async def pull(self, principal: Principal, request: PullRequest) -> PullPage:
        """The next page of changes for the caller's device."""
        check_request(principal, request.device_id, request.schema_version)
        if not 1 <= request.limit <= self.settings.sync_pull_max_limit:
            raise ValidationFailed(
                f"limit must be between 1 and {self.settings.sync_pull_max_limit}", field="limit"
            )
        device_id = request.device_id
        secret = self.settings.secret_key
        old = (
            decode_cursor(request.cursor, secret=secret, device_id=device_id)
            if request.cursor
            else None
        )
        # A read session: autocommit on PostgreSQL, where the few writes commit on their own;
        # on SQLite a snapshot that waits for no writer. A SQLite pull that must write (a new
        # keyset, the device's row: always on a first pull) runs in a write transaction.
        write = old is None and self.db.dialect != "postgresql"
        waited = 0.0
        while True:
            try:
                page, state = await self._run(principal, request, old, write=write)
            except _WriteNeeded:
                write = True
                page, state = await self._run(principal, request, old, write=True)
            if not page.held_back or page.changes or waited >= HELD_BACK_WAIT:
                break
            # Nothing to serve yet, only changes an open log writer holds back (a push about to
            # commit, usually): wait a moment here rather than have the device spin on has_more.
            await asyncio.sleep(HELD_BACK_POLL)
            waited += HELD_BACK_POLL
        page.cursor = encode_cursor(state, secret=secret, device_id=device_id)
        serve_as_read(page, self.registry)
        return page

    async def _run(
        self, principal: Principal, request: PullRequest, old: CursorState | None, *, write: bool
    ) -> tuple[PullPage, CursorState]:
        # the scope epoch is read before the session opens (it may take a pooled connection)
        epoch = await self.scopes.epoch()
        async with self.db.transaction() if write else self.db.reading() as session:
            return await self._pull(session, principal, request, old, epoch)

    async def _pull(
        self,
        session: AsyncSession,
        principal: Principal,
        request: PullRequest,
        old: CursorState | None,
        epoch: int | None,
    ) -> tuple[PullPage, CursorState]:
        keys = await self.scopes.keys(session, principal, epoch)
        now_hash = await self._save_keyset(session, keys)
        page, state = await self._page(session, old, keys, now_hash, request.limit)
        if old is None or old.possible != state.possible:
            served = await self._served(session, old, state)
            _check_writable(session)
            await upsert(
                session,
                sync_devices,
                {
                    "device_id": request.device_id,
                    "user_id": principal.user_id,
                    "keyset_hash": served,
                    "updated_at": utcnow(),
                },
                ["device_id"],
                ["keyset_hash", "updated_at"],
            )
        return page, state

    async def _served(
        self, session: AsyncSession, old: CursorState | None, state: CursorState
    ) -> str:
        """The keyset push decides holding from: what the device proves it applied (the keys of
        the cursor it presented) together with what this answer may give it. The answer may
        never arrive: until the device presents the new cursor, an edit of a record under a
        key it is losing is still an edit of a record it held (routed as a conflict)."""
        if old is None:
            return state.possible
        proven = await self.keysets.get(session, old.possible) or frozenset()
        offered = await self.keysets.get(session, state.possible) or frozenset()
        return await self._save_keyset(session, proven | offered)

    async def _save_keyset(self, session: AsyncSession, keys: frozenset[str]) -> str:
        if not self.keysets.stored(keys):
            _check_writable(session)
        return await self.keysets.save(session, keys)

    async def _page(
        self,
        session: AsyncSession,
        old: CursorState | None,
        keys: frozenset[str],
        now_hash: str,
        limit: int,
    ) -> tuple[PullPage, CursorState]:
        reads = _Reads()
        if old is not None and await self._known(session, old):
            page, state = await self._serve(session, old, keys, now_hash, limit, reads)
            # Every statement read the horizon with its rows: a prune that removed a tombstone
            # after the cursor's position (even between two statements) is seen here.
            if not old.seen < reads.horizon:
                return page, self._progress(state, page)
        total, ceiling, horizon = await logreader.count_rows(session, keys)
        reads = _Reads(ceiling)
        fresh = CursorState(
            FORMAT,
            0,
            0,
            now_hash,
            now_hash,
            total=total,
            floor_txid=horizon[0],
            floor_seq=horizon[1],
        )
        page, state = await self._serve(session, fresh, keys, now_hash, limit, reads)
        page.reset = old is not None
        return page, self._progress(state, page)

    async def _known(self, session: AsyncSession, state: CursorState) -> bool:
        # A keyset the server has never stored (another deployment's cursor) forces a reset.
        get = self.keysets.get
        return await get(session, state.held) is not None and (
            state.possible == state.held or await get(session, state.possible) is not None
        )

    async def _serve(
        self,
        session: AsyncSession,
        state: CursorState,
        keys: frozenset[str],
        now_hash: str,
        limit: int,
        reads: _Reads,
    ) -> tuple[PullPage, CursorState]:
        page = PullPage()
        if state.target or state.held != now_hash or state.possible != now_hash:
            state, page.has_more = await self._catch_up(
                session, state, keys, now_hash, limit, page, reads
            )
            limit -= len(page.changes)
        if state.target:
            return page, state
        if limit <= 0:
            page.has_more = True
            return page, state
        batch = await logreader.stream_rows(session, keys, state.position, limit + 1, reads.ceiling)
        rows = reads.saw(batch)
        # guarantee 9: held back by an open log writer, the device is told it is behind
        page.held_back = page.held_back or batch.held_back
        page.has_more = len(rows) > limit or batch.held_back
        if page.has_more:
            rows = rows[:limit]
        taken = page.fit(rows, self.settings.sync_pull_max_bytes, _is_upsert)
        if taken < len(rows):
            rows, page.has_more = rows[:taken], True
        page.changes.extend(
            (
                row.entity,
                row.record_id,
                row.op,
                row.version,
                row.payload if row.op == "upsert" else None,
            )
            for row in rows
        )
        if rows:
            state = _replace(state, txid=rows[-1].txid, seq=rows[-1].seq)
        return page, state

    async def _catch_up(
        self,
        session: AsyncSession,
        state: CursorState,
        keys: frozenset[str],
        now_hash: str,
        limit: int,
        page: PullPage,
        reads: _Reads,
    ) -> tuple[CursorState, bool]:
        get = self.keysets.get
        held = await get(session, state.held) or frozenset()
        possible = await get(session, state.possible) or frozenset()
        if state.target and state.target != now_hash:
            # The keyset changed again mid catch-up: what was partly evicted or partly sent is
            # uncertain, so it is evicted or sent again from the start.
            target = await get(session, state.target) or frozenset()
            held, possible = held & target, possible | target
            state = _replace(
                state,
                held=await self._save_keyset(session, held),
                possible=await self._save_keyset(session, possible),
                target="",
                catch_txid=0,
                catch_seq=0,
            )
        if not state.target:
            state = _replace(state, target=now_hash, catch_txid=0, catch_seq=0)
        removed, added = possible - keys, keys - held
        batch = await logreader.catch_up_rows(
            session,
            removed,
            added,
            state.catch_position,
            state.position,
            limit + 1,
            reads.ceiling,
        )
        rows = reads.saw(batch)
        page.held_back = batch.held_back
        more = len(rows) > limit or batch.held_back
        rows = rows[:limit]
        # rows of removed keys go out as evictions, without their record
        taken = page.fit(
            rows, self.settings.sync_pull_max_bytes, lambda r: r.scope_key not in removed
        )
        if taken < len(rows):
            rows, more = rows[:taken], True
        for row in rows:
            if row.scope_key in removed:
                if row.op == "upsert":
                    page.changes.append(_as_change(row, "evict"))
                elif row.position > state.position:
                    page.changes.append(_as_change(row, row.op))
            else:
                page.changes.append(_as_change(row, "upsert"))
        if rows:
            state = _replace(state, catch_txid=rows[-1].txid, catch_seq=rows[-1].seq)
        if not more:
            state = _replace(
                state, held=now_hash, possible=now_hash, target="", catch_txid=0, catch_seq=0
            )
        return state, more

    def _progress(self, state: CursorState, page: PullPage) -> CursorState:
        if state.total < 0:
            return state
        sent = state.sent + len(page.changes)
        page.progress = {"total": max(state.total, sent), "sent": sent}
        if not page.has_more:
            return _replace(state, total=-1, sent=0)
        return _replace(state, sent=sent)


def serve_as_read(page: PullPage, registry: SyncRegistry) -> None:
    """Records of an entity that reads differently now from how it was stored (its spec's
    ``served_as``: a quote past its validity reads expired) go out as they read at this pull;
    the others keep their stored JSON untouched."""
    if not page.changes:  # a no-op pull (the common one) asks the registry nothing
        return
    hooks = registry.served_as
    if not hooks:
        return
    for index, (entity, record_id, op, version, payload) in enumerate(page.changes):
        hook = hooks.get(entity)
        if hook is None or payload is None:
            continue
        stored = msgspec.json.decode(payload)
        shown = hook(stored)
        if shown is not stored:
            page.changes[index] = (
                entity,
                record_id,
                op,
                version,
                msgspec.json.encode(shown).decode(),
            )


def _is_upsert(row: LogRow) -> bool:
    return row.op == "upsert"


class _WriteNeeded(Exception):
    """A pull in a SQLite read-only session must write (a new keyset, the device's row): it is
    run again in a write transaction."""


def _check_writable(session: AsyncSession) -> None:
    if not Database.writable(session):
        raise _WriteNeeded


def _as_change(row: LogRow, op: str) -> ChangeRow:
    payload = row.payload if op == "upsert" else None
    return (row.entity, row.record_id, op, row.version, payload)


def _replace(state: CursorState, **changes: Any) -> CursorState:
    return msgspec.structs.replace(state, **changes)
