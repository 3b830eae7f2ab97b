"""The sync loop: push the outbox in order, then pull pages until the server has no more.

Every state change lands in one local transaction: a push batch's results with the outbox
entries they acknowledge, a pull page with its cursor. Killed at any point, the next ``sync()``
resends the same mutation numbers (the server replays their stored results) and resumes the
pull from the last stored cursor.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from client_sdk import outbox
from client_sdk.errors import InvalidCursor, MutationGapError, RequestError, SyncError
from client_sdk.made import made_by
from client_sdk.models import SyncReport
from client_sdk.pull import Fetched, PageFetcher, apply_page, fetch_page
from client_sdk.store import LocalStore, RecordKey, Row, dumps, json_decode
from client_sdk.transport import Transport
from protocol import errors as codes
from protocol.sync import (
    SCHEMA_VERSION,
    Mutation,
    MutationResult,
    PullRequest,
    PushRequest,
    PushResponse,
)

Progress = Callable[[int, int | None], None]

# the reference server's maximum page (settings.sync_pull_max_limit): fewer round trips; a
# server with a lower maximum answers 422 on ``limit`` and the page size is halved until accepted
DEFAULT_PULL_LIMIT = 5000
# mutations per push request: one request's fixed cost (device lock, scope, commit, round trip)
# spread over more mutations; the reference server takes 2,000 (settings.sync_push_max_mutations),
# and a server taking fewer answers 413 on ``mutations``: the batch is halved until accepted
DEFAULT_PUSH_BATCH = 1000
FIRST_PULL_PAGE = 1000

_push_json = msgspec.json.Decoder(PushResponse)
_push_msgpack = msgspec.msgpack.Decoder(PushResponse)

# a refused mutation with one of these codes means the server will not give us this record
_GONE = frozenset({codes.NOT_HELD, codes.OUT_OF_SCOPE, codes.RECORD_DELETED, codes.NOT_FOUND})

_KEEP = object()


class _Apply:
    """An accepted mutation answered without the record: the device's edit, with the fields the
    server set or changed (``server_changes``), is the new state."""

    def __init__(self, version: int, server_changes: dict[str, Any] | None) -> None:
        self.version = version
        self.server_changes = server_changes


class Syncer:
    """Runs one synchronisation against the server for one device."""

    def __init__(
        self,
        store: LocalStore,
        transport: Transport,
        device_id: uuid.UUID,
        *,
        push_batch: int = DEFAULT_PUSH_BATCH,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        now: Callable[[], str],
    ) -> None:
        self.store = store
        self.transport = transport
        self.device_id = device_id
        self.push_batch = push_batch
        self.pull_limit = pull_limit
        self._ramp = FIRST_PULL_PAGE
        self.now = now

    def run(self, progress: Progress | None = None) -> SyncReport:
        """Push everything pending, then pull until done."""
        report = SyncReport()
        self.push(report)
        self.pull(report, progress)
        return report

    # -- push -------------------------------------------------------------------------------

    def push(self, report: SyncReport) -> None:
        """Push the outbox in mid order, batch by batch, until it is empty."""
        from_mid = 0
        gaps = renumbered = 0
        while True:
            with self.store.reading() as conn:
                entries = outbox.batch(conn, self.push_batch, from_mid)
            if not entries:
                return
            request = PushRequest(
                device_id=self.device_id,
                schema_version=SCHEMA_VERSION,
                mutations=[_mutation(e) for e in entries],
            )
            try:
                response = self.transport.post("/sync/push", request)
            except MutationGapError as exc:
                from_mid = self._resend_from(exc)
                gaps += 1
                if gaps > 3:
                    raise
                continue
            except RequestError as exc:
                if exc.code == codes.MUTATION_REUSED and "last_mid" in exc.data:
                    # numbers the server already applied: it applied nothing of this batch
                    renumbered += 1
                    if renumbered > 3 or not self._renumber(exc.data, report):
                        raise
                    from_mid = 0
                    continue
                # a server with a lower maximum per push: halve the batch until it is accepted
                if exc.status != 413 or exc.field != "mutations" or len(entries) <= 1:
                    raise
                self.push_batch = len(entries) // 2
                continue
            from_mid = 0
            answer = Transport.decode(response, _push_json, _push_msgpack)
            if not self._apply_results(entries, answer.results, report, answer.last_mid):
                raise SyncError(
                    "the server acknowledged none of the pushed mutations", code="push_stalled"
                )

    def _resend_from(self, exc: MutationGapError) -> int:
        resend_from = int(exc.data.get("resend_from", 0))
        with self.store.reading() as conn:
            held = conn.execute("SELECT 1 FROM outbox WHERE mid = ?", (resend_from,)).fetchone()
            first = outbox.first_mid(conn)
        if held is None:
            raise MutationGapError(
                f"the server expects mutation {resend_from} but the oldest one held here is "
                f"{first}",
                code=codes.MUTATION_GAP,
                data={"resend_from": resend_from, "first_pending": first},
                status=409,
            ) from exc
        return resend_from

    def _renumber(self, data: dict[str, Any], report: SyncReport) -> int:
        """After a 409 ``mutation_reused``: move the pending mutations from the first reused
        number on above the server's ``last_mid``; returns how many moved."""
        with self.store.transaction() as conn:
            moved = outbox.renumber(conn, int(data["first_reused"]), int(data["last_mid"]))
        report.renumbered += moved
        return moved

    def _apply_results(
        self,
        entries: list[outbox.OutboxEntry],
        results: list[MutationResult],
        report: SyncReport,
        last_mid: int = 0,
    ) -> int:
        """Store one batch's results and drop what they acknowledge, in one transaction;
        returns how many mutations were acknowledged or renumbered.

        A few statements per batch, whatever its size: the rows of the records concerned are read
        at once, the results are folded into one server copy per record in Python, then the
        outbox entries still pending on those records are read at once and everything is written
        with ``executemany``. A ``mutation_reused`` result is no answer to our mutation (the
        server applied another one under its number): it and every later pending mutation are
        renumbered above the server's ``last_mid``, to be pushed again.
        """
        by_mid = {e.mid: e for e in entries}
        reused = [
            r.mid
            for r in results
            if r.mid in by_mid and r.error is not None and r.error.code == codes.MUTATION_REUSED
        ]
        answered = [
            (by_mid[r.mid], r)
            for r in sorted(results, key=lambda r: r.mid)
            if r.mid in by_mid and r.mid not in reused
        ]
        acked = [entry.mid for entry, _ in answered]
        now = self.now()
        with self.store.transaction() as conn:
            # nothing below writes a record before every read is done, so these rows are what
            # each result meets, however many results concern the same record
            rows = LocalStore.get_rows(conn, [(e.entity, e.record_id) for e, _ in answered])
            fold = _BatchFold(rows, now, report)
            for entry, result in answered:
                fold.add(entry, result)
            fold.write_reports(conn)
            outbox.remove(conn, acked)
            _discard_unmade(conn, fold, report)
            self._rebase_all(conn, fold.copies, rows)
            last = max(acked, default=0)
            if last > int(LocalStore.get_meta(conn, "acked_mid", 0)):
                LocalStore.set_meta(conn, "acked_mid", last)
            moved = outbox.renumber(conn, min(reused), last_mid) if reused else 0
        report.pushed += len(acked)
        report.renumbered += moved
        return len(acked) + moved

    def _rebase_all(
        self, conn: sqlite3.Connection, copies: dict[RecordKey, Any], rows: dict[RecordKey, Row]
    ) -> None:
        """Make each record's new server copy its base, replaying what is still pending on it."""
        targets = {
            key: target
            for key, copy in copies.items()
            if (target := _new_base(copy, rows.get(key))) is not None
        }
        outbox.rebase_many(self.store, conn, targets)

    # -- pull -------------------------------------------------------------------------------

    def pull(self, report: SyncReport, progress: Progress | None) -> None:
        """Pull pages until ``has_more`` is false; each page and its cursor commit together.

        A background thread requests page n+1 while page n is applied (its cursor is in the
        response, so the request need not wait for the apply); pages are applied strictly in
        order, and a fetch error surfaces here after every page fetched before it is stored.
        """
        with self.store.reading() as conn:
            cursor = LocalStore.get_meta(conn, "cursor")
        try:
            self._pull_pages(cursor, report, progress, reset=False)
        except InvalidCursor:
            # The server no longer accepts the stored cursor (its secret key changed, or the
            # cursor is damaged): start over as a ``reset`` does, keeping the outbox. Once only:
            # a fresh stream that is refused too is raised.
            self._pull_pages(None, report, progress, reset=True)

    def _pull_pages(
        self, cursor: str | None, report: SyncReport, progress: Progress | None, *, reset: bool
    ) -> None:
        """Pull from ``cursor`` until done; ``reset``: the first page replaces every synced
        record without pending mutations (in the same transaction)."""
        # The first page is fetched on this thread: an incremental sync is usually one small
        # page, and a thread and a WAL checkpoint would cost more than they save there.
        first = fetch_page(self.request_page, self.store, cursor, restarted=reset)
        if reset:
            first.page.reset = True
        received = self._apply_fetched(first, report, progress, 0)
        if first.last:
            return
        fetcher = PageFetcher(
            self.request_page, self.store, first.next_cursor, restarted=first.restart
        )
        with self.store.bulk(), fetcher:
            while True:
                fetched = fetcher.next()
                received = self._apply_fetched(fetched, report, progress, received)
                if fetched.last:
                    return

    def _apply_fetched(
        self, fetched: Fetched, report: SyncReport, progress: Progress | None, received: int
    ) -> int:
        """Apply one fetched page with its cursor in one transaction; returns records so far."""
        page = fetched.page
        with self.store.transaction() as conn:
            if page.reset:
                report.reset = True
                conn.execute("DELETE FROM records WHERE pending = 0")
            report.removed += apply_page(self.store, conn, fetched.prepared)
            # a reset that only told us to start over: pull again from the beginning
            LocalStore.set_meta(conn, "cursor", fetched.next_cursor)
        received += fetched.count
        report.received += fetched.count
        report.pages += 1
        if progress is not None:
            total = page.progress.get("total") if page.progress else None
            sent = page.progress.get("sent", received) if page.progress else received
            progress(sent, total)
        return received

    def request_page(self, cursor: str | None) -> httpx.Response:
        """POST one pull request (retried by the transport).

        Page sizes ramp up from ``FIRST_PULL_PAGE`` to ``pull_limit`` (doubling), so applying
        starts early and big pages follow; a server whose page maximum is below the limit
        refuses it, and it is then halved until it is accepted.
        """
        while True:
            limit = min(self.pull_limit, self._ramp)
            request = PullRequest(
                device_id=self.device_id, schema_version=SCHEMA_VERSION, cursor=cursor,
                limit=limit,
            )
            try:
                response = self.transport.post("/sync/pull", request)
            except RequestError as exc:
                if exc.status != 422 or exc.field != "limit" or limit <= 1:
                    raise
                self.pull_limit = self._ramp = limit // 2
                continue
            self._ramp = limit * 2
            return response


class _BatchFold:
    """One push batch's results folded, in mid order, into one server copy per record.

    Nothing is written while folding: the rejections and conflicts are kept for one
    ``executemany`` each, and ``rows`` (read once) stand for the records' rows before the batch.
    """

    def __init__(self, rows: dict[RecordKey, Row], now: str, report: SyncReport) -> None:
        self.rows = rows
        self.now = now
        self.report = report
        # per record: the latest server copy (a dict), None (the server has none for us) or
        # _KEEP (keep the base held)
        self.copies: dict[RecordKey, Any] = {}
        self.rejected: list[tuple[Any, ...]] = []
        self.conflicts: list[tuple[Any, ...]] = []
        # records a refused action would have made (``client_sdk.made``), with its mid
        self.unmade: dict[RecordKey, int] = {}

    def add(self, entry: outbox.OutboxEntry, result: MutationResult) -> None:
        """Fold one result into its record's copy (results come in mid order)."""
        key = (entry.entity, entry.record_id)
        copy = self._server_copy(entry, result)
        if isinstance(copy, _Apply):
            copy = self._applied_copy(entry, self.copies.get(key, _KEEP), copy)
        if copy is not _KEEP:
            self.copies[key] = copy
        else:
            self.copies.setdefault(key, _KEEP)

    def write_reports(self, conn: sqlite3.Connection) -> None:
        """Store the rejections and conflicts gathered, in the order of their results."""
        conn.executemany(
            "INSERT OR REPLACE INTO rejected(mid, entity, record_id, op, changes, code, "
            "message, field, conflict_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            self.rejected,
        )
        conn.executemany(
            "INSERT INTO conflicts(mid, entity, record_id, conflict_id, fields, created_at) "
            "VALUES (?,?,?,?,?,?)",
            self.conflicts,
        )

    def _server_copy(self, entry: outbox.OutboxEntry, result: MutationResult) -> Any:
        """What the result says the server holds: a record dict, None (nothing), _KEEP, or
        _Apply (the device's edit, for an accepted upsert answered without the record)."""
        if result.status == "rejected":
            return self._refused(entry, result)
        report = self.report
        if result.status == "applied":
            report.applied += 1
        elif result.status == "merged":
            report.merged += 1
        else:
            report.conflicts += 1
        if result.repriced:
            report.repriced.extend(
                {"entity": entry.entity, "record_id": entry.record_id, **line}
                for line in result.repriced
            )
        if result.conflicts:
            self.conflicts.append((
                entry.mid, entry.entity, entry.record_id, _conflict_id(result),
                dumps(result.conflicts), self.now,
            ))
        if result.record is not None:
            return result.record
        if entry.op == "delete":
            return None
        if entry.op == "upsert":
            return _Apply(result.version, result.server_changes)
        return _KEEP

    def _refused(self, entry: outbox.OutboxEntry, result: MutationResult) -> Any:
        """A rejection: the server's record when it sent one, None when it will not give us the
        record (or it never had it), else _KEEP."""
        self.report.rejected += 1
        error = result.error
        code = error.code if error else "rejected"
        self.rejected.append((
            entry.mid, entry.entity, entry.record_id, entry.op, entry.changes, code,
            error.message if error else "", error.field if error else None,
            _conflict_id(result), self.now,
        ))
        for key in made_by(entry.op, json_decode(entry.changes)):
            self.unmade.setdefault(key, entry.mid)
        if result.record is not None:
            return result.record
        row = self.rows.get((entry.entity, entry.record_id))
        if code in _GONE or row is None or row[0] == 0:
            return None
        return _KEEP

    def _applied_copy(self, entry: outbox.OutboxEntry, previous: Any, applied: _Apply) -> Any:
        """The server's copy after an accepted upsert it did not echo: the copy before plus
        the mutation's changes plus the fields the server set or changed."""
        if previous is _KEEP:
            row = self.rows.get((entry.entity, entry.record_id))
            base = None if row is None else _server_json(row)
            previous = None if base is None else json_decode(base)
        if previous is None and entry.base_version != 0:
            return _KEEP
        copy = outbox.replay(entry.record_id, previous, [entry])
        if copy is None:
            return _KEEP
        if applied.server_changes:
            copy.update(applied.server_changes)
        if applied.version:
            copy["version"] = applied.version
        return copy


def _discard_unmade(conn: sqlite3.Connection, fold: _BatchFold, report: SyncReport) -> None:
    """Remove the local records a refused action built (the order of a refused
    ``quote.convert``: the server never made it) and withdraw the mutations queued for them,
    so the device converges with the server (SYNC.md guarantee 4). A record the server has
    sent this device (a version above 0, or a copy in this batch's results) stays."""
    if not fold.unmade:
        return
    rows = LocalStore.get_rows(conn, fold.unmade)
    ghosts = [
        key
        for key in fold.unmade
        if (key not in rows or rows[key][0] == 0) and not isinstance(fold.copies.get(key), dict)
    ]
    queued = outbox.entries_of(conn, ghosts)
    outbox.withdraw(conn, [entry.mid for entries in queued.values() for entry in entries])
    LocalStore.delete_rows(conn, ghosts)
    for key in ghosts:
        fold.copies.pop(key, None)  # results of its edits in this batch name no server copy
        report.discarded.append({
            "entity": key[0], "record_id": key[1], "refused_mid": fold.unmade[key],
            "withdrawn": len(queued.get(key, [])),
        })


def _new_base(copy: Any, row: Row | None) -> tuple[int, str | None] | None:
    """The (version, server JSON or None) a record is rebased on after the batch, from its
    folded copy and its row before the batch; None leaves the row as it is."""
    if copy is _KEEP:
        return None if row is None else (row[0], _server_json(row))
    if copy is None:
        return 0, None
    version = int(copy.get("version", 0))
    if row is not None and row[0] > version:
        # a replayed result older than what a pull already brought: keep the newer copy
        return row[0], _server_json(row)
    return version, dumps(copy)


def _conflict_id(result: MutationResult) -> str | None:
    return str(result.conflict_id) if result.conflict_id else None


def _server_json(row: Row) -> str | None:
    """The server's copy a row holds: ``base`` while mutations are pending, else ``data``."""
    return row[2] if row[3] else row[1]


def _mutation(entry: outbox.OutboxEntry) -> Mutation:
    return Mutation(
        mid=entry.mid,
        entity=entry.entity,
        id=uuid.UUID(entry.record_id),
        op=entry.op,
        hlc=entry.hlc,
        base_version=entry.base_version,
        changes=json_decode(entry.changes),
    )
