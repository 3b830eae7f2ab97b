"""``OutpostClient``: the SDK's public API — local reads and writes, login, sync, status."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import msgspec

from client_sdk import outbox
from client_sdk.errors import (
    AccessRevoked,
    AuthError,
    ConflictError,
    NotFoundError,
    OutpostError,
    RecordNotFound,
    ServerOwnedField,
)
from client_sdk.models import (
    LocalConflict,
    LoggedInUser,
    LoginResponse,
    RejectedMutation,
    SyncReport,
    SyncStatus,
)
from client_sdk.pricing import LocalCatalog
from client_sdk.store import DEFAULT_INDEXED_FIELDS, LocalStore, dumps, json_decode
from client_sdk.sync import DEFAULT_PULL_LIMIT, DEFAULT_PUSH_BATCH, Progress, Syncer
from client_sdk.transport import RetryPolicy, Transport
from client_sdk.validation import LocalSchema
from protocol import errors as codes
from protocol.entities import CATALOG, EntityDef
from protocol.hlc import Clock
from protocol.ids import uuid7

_login_json = msgspec.json.Decoder(LoginResponse)
_login_msgpack = msgspec.msgpack.Decoder(LoginResponse)
_RESERVED = frozenset({"id", "version"})


def _utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """Field values as the wire sees them (Decimal, UUID, datetime -> strings)."""
    reserved = _RESERVED & values.keys()
    if reserved:
        name = sorted(reserved)[0]
        raise ServerOwnedField(
            f"{name!r} is set by the system, not by an edit",
            code=codes.SERVER_OWNED_FIELD,
            field=name,
        )
    return msgspec.to_builtins(values)  # type: ignore[no-any-return]


def _named(where: dict[str, Any] | None, order_by: str | None) -> Iterable[str]:
    """The field names a query filters and orders by (``id`` is every record's)."""
    names = [name for name in (where or {}) if name != "id"]
    if order_by and order_by.lstrip("-") != "id":
        names.append(order_by.lstrip("-"))
    return names


class OutpostClient:
    """The offline client: a local SQLite copy of the user's scope plus an outbox.

    Safe to share between an app's UI thread and a background sync thread. Every local write
    and query is checked against the entity definitions the server uses (``entities``, by
    default every syncable entity of the protocol): what the server would refuse raises a
    ``LocalValidationError`` at once and nothing is stored or queued.
    """

    def __init__(
        self,
        base_url: str | None = None,
        db_path: str | Path = "outpost-client.sqlite3",
        *,
        http: httpx.Client | None = None,
        device_id: uuid.UUID | str | None = None,
        msgpack: bool = False,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        indexed_fields: Sequence[str] = DEFAULT_INDEXED_FIELDS,
        push_batch: int = DEFAULT_PUSH_BATCH,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        timeout: float = 30.0,
        entities: Mapping[str, EntityDef] = CATALOG,
    ) -> None:
        self.schema = LocalSchema(entities)
        if http is None:
            if base_url is None:
                raise ValueError("pass base_url or http")
            http = httpx.Client(base_url=base_url, timeout=timeout)
            self._owns_http = True
        else:
            self._owns_http = False
        self.http = http
        self.store = LocalStore(db_path, indexed_fields)
        self.transport = Transport(http, msgpack=msgpack, retry=retry, sleep=sleep, rng=rng)
        self.push_batch = push_batch
        self.pull_limit = pull_limit
        self._sync_lock = threading.Lock()
        with self.store.transaction() as conn:
            stored = LocalStore.get_meta(conn, "device_id")
            if stored is None:
                stored = str(uuid.UUID(str(device_id)) if device_id else uuid7())
                LocalStore.set_meta(conn, "device_id", stored)
            elif device_id is not None and uuid.UUID(str(device_id)) != uuid.UUID(stored):
                raise ValueError(f"this local database belongs to device {stored}")
            self.transport.token = LocalStore.get_meta(conn, "token")
            self.device_id = uuid.UUID(stored)
            self.clock = Clock(str(self.device_id))
            last_hlc = LocalStore.get_meta(conn, "hlc")
            if last_hlc:
                self.clock.observe(last_hlc)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the local database (and the HTTP client if this object created it)."""
        self.store.close()
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> OutpostClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- auth -------------------------------------------------------------------------------

    def login(self, email: str, password: str, device_name: str = "") -> LoggedInUser:
        """Log in on this device; the token and the user are kept in the local database."""
        body = {
            "email": email, "password": password, "device_id": str(self.device_id),
            "device_name": device_name,
        }
        response = self.transport.post("/auth/login", body, auth=False, negotiate=False)
        login = Transport.decode(response, _login_json, _login_msgpack)
        with self.store.transaction() as conn:
            LocalStore.set_meta(conn, "token", login.access_token)
            LocalStore.set_meta(conn, "user", msgspec.to_builtins(login.user))
            LocalStore.set_meta(conn, "token_expires_at", login.expires_at)
        self.transport.token = login.access_token
        return login.user

    def logout(self) -> None:
        """Revoke the token on the server when reachable, and forget it here (data stays)."""
        if self.transport.token:
            # an unreachable server or a dead token: forgetting it locally is enough
            with contextlib.suppress(OutpostError):
                self.transport.post("/auth/logout", {}, negotiate=False)
        with self.store.transaction() as conn:
            LocalStore.set_meta(conn, "token", None)
        self.transport.token = None

    def register_push_token(self, token: str, platform: str = "android") -> None:
        """Register (or refresh, when FCM rotates it) this device's FCM registration token, so
        reminders and silent "sync now" pushes reach it. Logout forgets it on the server."""
        content = msgspec.json.encode({"token": token, "platform": platform})
        self.transport.send("PUT", "/devices/push-token", content=content)

    def remove_push_token(self) -> None:
        """Stop pushes to this device (a 404, none registered, is fine)."""
        with contextlib.suppress(NotFoundError):
            self.transport.send("DELETE", "/devices/push-token")

    def upload_receipt(
        self,
        content: bytes,
        filename: str,
        content_type: str,
        receipt_id: uuid.UUID | str | None = None,
    ) -> dict[str, Any]:
        """Upload one receipt of the logged-in user (online: the bytes are not queued) and
        return its record (``id``, ``sha256``, ...). ``receipt_id``: the id an expense line
        written offline already names (make it with ``protocol.ids.uuid7``); upload it before
        the ``sync`` that pushes the line, or the server rejects the line (``unknown_receipt``).
        A retry of an upload whose answer was lost is recognised by its checksum and answers
        the stored record; another file under a used id raises ``ConflictError`` (``id_reused``).
        """
        params = {"filename": filename}
        if receipt_id is not None:
            params["id"] = str(receipt_id)
        try:
            response = self.transport.send(
                "POST", "/expense-receipts", content=content, params=params,
                content_type=content_type,
            )
        except ConflictError as exc:
            if exc.code != "id_reused" or receipt_id is None:
                raise
            response = self.transport.send("GET", f"/expense-receipts/{receipt_id}")
            stored = msgspec.json.decode(response.content)
            if stored.get("sha256") != hashlib.sha256(content).hexdigest():
                raise
            return stored  # type: ignore[no-any-return]
        return msgspec.json.decode(response.content)  # type: ignore[no-any-return]

    @property
    def user(self) -> LoggedInUser | None:
        """The logged-in user, if any."""
        with self.store.reading() as conn:
            value = LocalStore.get_meta(conn, "user")
        token = self.transport.token
        return None if value is None or not token else msgspec.convert(value, LoggedInUser)

    # -- local reads ------------------------------------------------------------------------

    def get(self, entity: str, record_id: uuid.UUID | str) -> dict[str, Any] | None:
        """The local view of one record, or None."""
        self.schema.entity(entity)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT data FROM records WHERE entity = ? AND id = ? AND data IS NOT NULL",
                (entity, str(record_id)),
            ).fetchone()
        return None if row is None else json_decode(row[0])

    def query(
        self,
        entity: str,
        where: dict[str, Any] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Local records of ``entity`` matching equality filters (a list value means "any of"),
        ordered by a field (``-field`` descending; default: id, i.e. creation time).

        An unknown entity or field raises ``UnknownEntity`` / ``UnknownField``."""
        self.schema.fields(entity, _named(where, order_by))
        sql, params = self.store.select_sql(entity, where, order_by, limit, offset)
        with self.store.reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [json_decode(row[0]) for row in rows]

    def count(self, entity: str, where: dict[str, Any] | None = None) -> int:
        """How many local records of ``entity`` match the filters."""
        self.schema.fields(entity, _named(where, None))
        conditions, params = self.store.where_clause(entity, where)
        with self.store.reading() as conn:
            row = conn.execute(f"SELECT count(*) FROM records WHERE {conditions}", params)
            return int(row.fetchone()[0])

    # -- local writes -----------------------------------------------------------------------

    def create(self, entity: str, fields: dict[str, Any]) -> str:
        """Create a record locally (a new UUIDv7 id) and queue it; returns the id.

        Raises a ``LocalValidationError`` for what the server would refuse: an unknown or
        read-only entity, an unknown or server-owned field, a wrong type, a text over its
        limit, a time without offset, a record breaking a domain rule."""
        definition = self.schema.writable(entity)
        values = dict(fields)
        given = values.pop("id", None)
        record_id = self.schema.record_id(given) if given else str(uuid7())
        changes = _fields(values)
        self.schema.changes(definition, changes, creating=True)
        with self.store.transaction() as conn:
            if LocalStore.get_row(conn, entity, record_id) is not None:
                raise ValueError(f"{entity} {record_id} already exists locally")
            view = self.schema.record(
                definition, {"id": record_id, "version": 0, **changes}, self._catalog(conn)
            )
            changes = _priced_changes(changes, view)
            self.store.put_row(conn, entity, record_id, 0, dumps(view), None, True)
            self._queue(conn, entity, record_id, "upsert", 0, changes)
        return record_id

    def update(
        self, entity: str, record_id: uuid.UUID | str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Change fields of a local record and queue the edit; returns the new local view.

        Checked as ``create`` is (create-only fields are server-owned on an edit)."""
        definition = self.schema.writable(entity)
        values = _fields(changes)
        self.schema.changes(definition, values, creating=False)
        rid = str(record_id)
        with self.store.transaction() as conn:
            version, data, base = self._editable(conn, entity, rid)
            view = json_decode(data)
            view.update(values)
            view = self.schema.record(definition, view, self._catalog(conn))
            values = _priced_changes(values, view)
            self.store.put_row(conn, entity, rid, version, dumps(view), base, True)
            self._queue(conn, entity, rid, "upsert", version, values)
        return view

    def delete(self, entity: str, record_id: uuid.UUID | str) -> None:
        """Delete a record locally and queue the delete (``ReadOnlyEntity`` / ``NotDeletable``
        for entities devices may not delete, and, code ``invalid_state``, for a record whose
        status forbids it: an order or a quote past draft, a visit checked in)."""
        definition = self.schema.deletable(entity)
        rid = str(record_id)
        with self.store.transaction() as conn:
            version, data, base = self._editable(conn, entity, rid)
            self.schema.deletable_now(definition, json_decode(data))
            self.store.put_row(conn, entity, rid, version, None, base, True)
            self._queue(conn, entity, rid, "delete", version, {})

    def action(
        self,
        entity: str,
        record_id: uuid.UUID | str,
        name: str,
        params: dict[str, Any] | None = None,
        local: dict[str, Any] | None = None,
        creates: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        """Queue a domain action (op ``<entity>.<name>``), replayed on the server with its rules.

        ``local`` are field values to show until the server's outcome arrives (optimistic UI);
        they are not sent. ``creates``: (entity, record) the action makes on the server (the
        order of a ``quote.convert``), stored locally at once, in the same transaction, until
        the server's copy arrives. An unknown action raises ``UnknownAction``, parameters the
        action does not take or of the wrong type ``UnknownField`` / ``InvalidValue``.
        """
        definition = self.schema.entity(entity)
        rid = str(record_id)
        values = _fields(params or {})
        self.schema.params(definition, name, values)
        shown = _fields(local) if local else None
        if shown:
            self.schema.shown(definition, shown)
        with self.store.transaction() as conn:
            version, data, base = self._editable(conn, entity, rid)
            view = json_decode(data)
            if shown:
                view.update(shown)
            self.store.put_row(conn, entity, rid, version, dumps(view), base, True)
            for made, record in creates:
                if LocalStore.get_row(conn, made, str(record["id"])) is not None:
                    raise ValueError(f"{made} {record['id']} already exists locally")
                self.store.put_row(conn, made, str(record["id"]), 0, dumps(record), None, False)
            self._queue(conn, entity, rid, f"{entity}.{name}", version, values, shown)

    def _catalog(self, conn: Any) -> LocalCatalog:
        """The local catalog offline pricing reads, through this connection."""

        def query(entity: str, where: dict[str, Any]) -> list[dict[str, Any]]:
            sql, params = self.store.select_sql(entity, where, None, None, 0)
            return [json_decode(row[0]) for row in conn.execute(sql, params).fetchall()]

        return LocalCatalog(conn, query)

    def _editable(self, conn: Any, entity: str, rid: str) -> tuple[int, str, str | None]:
        """(server version, local view, server copy) of a record the user can edit."""
        row = LocalStore.get_row(conn, entity, rid)
        if row is None or row[1] is None:
            raise RecordNotFound(f"no local {entity} {rid}", code=codes.NOT_FOUND)
        version, data, base, pending = row
        return version, row[1], base if pending else (data if version else None)

    def _queue(
        self, conn: Any, entity: str, rid: str, op: str, base_version: int,
        changes: dict[str, Any], local: dict[str, Any] | None = None,
    ) -> int:
        hlc = self.clock.tick()
        LocalStore.set_meta(conn, "hlc", hlc)
        return outbox.append(
            conn, entity=entity, record_id=rid, op=op, base_version=base_version,
            changes=dumps(changes), local=None if local is None else dumps(local), hlc=hlc,
            now=_utcnow(),
        )

    # -- sync -------------------------------------------------------------------------------

    def sync(self, progress: Progress | None = None) -> SyncReport:
        """Push the outbox, then pull until up to date. One sync runs at a time."""
        with self._sync_lock:
            if not self.transport.token:
                raise AuthError("log in first", code=codes.NOT_AUTHENTICATED)
            started = time.perf_counter()
            with self.store.transaction() as conn:
                LocalStore.set_meta(conn, "last_attempt_at", _utcnow())
            syncer = Syncer(
                self.store, self.transport, self.device_id, push_batch=self.push_batch,
                pull_limit=self.pull_limit, now=_utcnow,
            )
            try:
                report = syncer.run(progress)
            except AccessRevoked as exc:
                # the user or the device was deactivated: nothing here may be kept or sent
                exc.discarded = self._wipe()
                with self.store.transaction() as conn:
                    LocalStore.set_meta(conn, "last_error", str(exc))
                    LocalStore.set_meta(conn, "last_error_code", exc.code)
                raise
            except Exception as exc:
                self.pull_limit, self.push_batch = syncer.pull_limit, syncer.push_batch
                code = exc.code if isinstance(exc, OutpostError) else type(exc).__name__
                with self.store.transaction() as conn:
                    LocalStore.set_meta(conn, "last_error", str(exc) or code)
                    LocalStore.set_meta(conn, "last_error_code", code)
                raise
            # a page or batch size the server refused is not tried again by this client
            self.pull_limit, self.push_batch = syncer.pull_limit, syncer.push_batch
            report.seconds = time.perf_counter() - started
            with self.store.transaction() as conn:
                LocalStore.set_meta(conn, "last_success_at", _utcnow())
                LocalStore.set_meta(conn, "last_error", None)
                LocalStore.set_meta(conn, "last_error_code", None)
            return report

    def _wipe(self) -> int:
        """Drop every synced record, the outbox, the cursor, the reported conflicts and
        rejections, and the login; returns how many unsent mutations were discarded. The device
        id, the mutation counter and the clock stay (numbers are never reused)."""
        with self.store.transaction() as conn:
            discarded = outbox.count(conn)
            for table in ("records", "outbox", "conflicts", "rejected"):
                conn.execute(f"DELETE FROM {table}")
            for key in ("cursor", "token", "user", "token_expires_at"):
                LocalStore.set_meta(conn, key, None)
        self.transport.token = None
        return discarded

    def status(self) -> SyncStatus:
        """Last success, pending mutations, last error, whether a cursor is held."""
        with self.store.reading() as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            pending = outbox.count(conn)

        def value(key: str) -> Any:
            return None if key not in meta else json_decode(meta[key])

        def moment(key: str) -> dt.datetime | None:
            raw = value(key)
            return None if raw is None else dt.datetime.fromisoformat(raw)

        return SyncStatus(
            last_success_at=moment("last_success_at"),
            last_attempt_at=moment("last_attempt_at"),
            pending=pending,
            last_error=value("last_error"),
            last_error_code=value("last_error_code"),
            has_cursor=value("cursor") is not None,
            logged_in=bool(self.transport.token),
            last_mid=int(value("last_mid") or 0),
            acked_mid=int(value("acked_mid") or 0),
        )

    # -- what the app shows -----------------------------------------------------------------

    def conflicts(self) -> list[LocalConflict]:
        """Conflicts the server reported for this device's mutations, oldest first."""
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT id, mid, entity, record_id, conflict_id, fields, created_at "
                "FROM conflicts ORDER BY id"
            ).fetchall()
        return [
            msgspec.convert(
                {"id": r[0], "mid": r[1], "entity": r[2], "record_id": r[3],
                 "conflict_id": r[4], "fields": json_decode(r[5]), "created_at": r[6]},
                LocalConflict,
            )
            for r in rows
        ]

    def rejected_mutations(self) -> list[RejectedMutation]:
        """Mutations the server refused, with code and message, oldest first."""
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT mid, entity, record_id, op, changes, code, message, field, conflict_id, "
                "created_at FROM rejected ORDER BY mid"
            ).fetchall()
        return [
            msgspec.convert(
                {"mid": r[0], "entity": r[1], "record_id": r[2], "op": r[3],
                 "changes": json_decode(r[4]), "code": r[5], "message": r[6], "field": r[7],
                 "conflict_id": r[8], "created_at": r[9]},
                RejectedMutation,
            )
            for r in rows
        ]

    def dismiss(
        self, *, conflict_ids: Sequence[int] = (), rejected_mids: Sequence[int] = ()
    ) -> None:
        """Forget conflicts and rejections the user has seen."""
        with self.store.transaction() as conn:
            conn.executemany("DELETE FROM conflicts WHERE id = ?", [(i,) for i in conflict_ids])
            conn.executemany("DELETE FROM rejected WHERE mid = ?", [(m,) for m in rejected_mids])

    def pending_mutations(self) -> list[outbox.OutboxEntry]:
        """The outbox, in order (for diagnostics)."""
        with self.store.reading() as conn:
            return outbox.batch(conn, 1_000_000)


def _priced_changes(changes: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """The changes to queue: lines as priced offline (unit price, tax rate and deciding entry),
    so the server can say per line what it priced differently (``repriced``)."""
    if "lines" in changes and "lines" in view:
        return {**changes, "lines": view["lines"]}
    return changes
