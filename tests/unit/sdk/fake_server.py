"""A small in-memory fake of the Outpost sync protocol, served through ``httpx.MockTransport``.

It follows the contract of protocol/sync.py: per-device mutation numbers with stored receipts
(replays), 409 ``mutation_gap``, field-level merge with per-field clocks, a change log that keeps
the latest row per record, cursors, ``reset``, and fault injection (dropped requests, responses
lost after the commit, 5xx).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from protocol.entities import EntityDef
from protocol.sync import MSGPACK, SUPPORTED_SCHEMA_VERSIONS, Mutation, PullRequest, PushRequest

_push = msgspec.json.Decoder(PushRequest)
_pull = msgspec.json.Decoder(PullRequest)
_push_mp = msgspec.msgpack.Decoder(PushRequest)
_pull_mp = msgspec.msgpack.Decoder(PullRequest)

Scalar = str | int | float | bool | None


class FakeRecord(msgspec.Struct, kw_only=True):
    """The fake server's records: loose scalar fields (it stores whatever it is sent), plus
    ``bad``, which it refuses, so the SDK's sync machinery can be tested against it."""

    id: str
    version: int = 0
    name: Scalar = None
    city: Scalar = None
    notes: Scalar = None
    owner_id: Scalar = None
    account_id: Scalar = None
    status: Scalar = None
    bad: Scalar = None
    n: Scalar = None
    score: Scalar = None
    touched: Scalar = None
    lines: list[Scalar] | None = None  # an order's lines (the fake totals them: ``compute``)
    total: Scalar = None


class FakeParams(msgspec.Struct):
    """Any action's parameters in the fake (``lat`` for a check-in)."""

    lat: Scalar = None


# The entity definitions clients of the fake server check their local writes with.
ENTITIES = {
    name: EntityDef(name=name, record=FakeRecord, actions={"check_in": FakeParams})
    for name in ("account", "contact", "visit", "order")
} | {"product": EntityDef(name="product", record=FakeRecord, writable=False)}

PASSWORD = "secret"
Fault = str  # "drop_request" | "drop_response" | "500" | "429" | "400"


class FakeServer:
    """The server's state and the request handler."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[str, str]] = {}
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.clocks: dict[tuple[str, str], dict[str, tuple[int, str, str | None]]] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.log: dict[tuple[str, str], tuple[int, str]] = {}  # record -> (seq, op)
        self.seq = 0
        self.horizon = 0
        self.last_mid: dict[str, int] = {}
        self.receipts: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
        self.applied: list[tuple[str, int]] = []  # (device, mid) in the order applied
        self.faults: list[tuple[str, Fault]] = []  # (path, fault), consumed in order
        self.requests: list[tuple[str, Any]] = []
        self.on_request: Callable[[str], None] | None = None
        self.read_only = {"product"}
        self.echo_applied = True  # False: "applied" results carry the version only
        self.max_limit = 5000  # a bigger pull limit is refused, as the real server does
        self.max_push = 2000  # so is a push with more mutations
        # user id -> the 401 code its requests get (user_deactivated / device_deactivated)
        self.deactivated: dict[str, str] = {}
        # what the server sets or computes on every write of a record (defaults, totals)
        self.compute: Callable[[str, dict[str, Any]], None] | None = None
        self.key = "c"  # signs cursors: another key refuses every cursor issued before

    # -- setup helpers ----------------------------------------------------------------------

    def add_user(self, email: str, role: str = "rep") -> dict[str, Any]:
        user = {"id": str(uuid.uuid4()), "email": email, "name": email, "role": role}
        self.users[email] = user
        return user

    def put(self, entity: str, record: dict[str, Any], hlc: str = "0000000000000-00000-srv") -> int:
        """A server-side write (REST or another device): bumps the version, logs the change."""
        key = (entity, str(record["id"]))
        current = self.records.get(key, {})
        version = int(current.get("version", 0)) + 1
        merged = {**current, **record, "id": key[1], "version": version}
        self.records[key] = merged
        clocks = self.clocks.setdefault(key, {})
        for name in record:
            if name not in ("id", "version"):
                clocks[name] = (version, hlc, None)
        self._log(key, "upsert")
        return version

    def delete(self, entity: str, record_id: str) -> None:
        key = (entity, record_id)
        self.records.pop(key, None)
        self.deleted.add(key)
        self._log(key, "delete")

    def evict(self, entity: str, record_id: str) -> None:
        """The record leaves the (only) device user's scope."""
        self._log((entity, record_id), "evict")

    def prune(self) -> None:
        """Tombstone retention passed: every cursor issued so far is too old."""
        self.seq += 1
        self.horizon = self.seq

    def fail(self, path: str, *faults: Fault) -> None:
        self.faults.extend((path, f) for f in faults)

    def _log(self, key: tuple[str, str], op: str) -> None:
        self.seq += 1
        self.log[key] = (self.seq, op)

    # -- HTTP -------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport(), base_url="http://fake")

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.on_request:
            self.on_request(path)
        fault = None
        for i, (fpath, kind) in enumerate(self.faults):
            if fpath == path:
                fault = kind
                del self.faults[i]
                break
        if fault == "drop_request":
            raise httpx.ConnectError("connection refused", request=request)
        if fault in ("500", "429"):
            return self._error(int(fault), "server_error", "try later")
        if fault == "400":
            return self._error(400, "bad_request", "refused")
        msgpack = request.headers.get("content-type", "").startswith(MSGPACK)
        if path == "/auth/login":
            response = self._login(msgspec.json.decode(request.content))
        else:
            auth = request.headers.get("authorization", "")
            session = self.tokens.get(auth.removeprefix("Bearer "))
            if session is None:
                response = self._error(401, "not_authenticated", "bad token")
            elif session[0] in self.deactivated:
                response = self._error(401, self.deactivated[session[0]], "deactivated")
            elif path == "/auth/logout":
                self.tokens.pop(auth.removeprefix("Bearer "))
                response = httpx.Response(204)
            elif path == "/sync/push":
                body = (_push_mp if msgpack else _push).decode(request.content)
                self.requests.append((path, body))
                response = self._push_request(session, body, msgpack)
            elif path == "/sync/pull":
                body = (_pull_mp if msgpack else _pull).decode(request.content)
                self.requests.append((path, body))
                response = self._pull_request(body, msgpack)
            else:
                response = self._error(404, "not_found", path)
        if fault == "drop_response":
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return response

    @staticmethod
    def _error(status: int, code: str, message: str, **data: Any) -> httpx.Response:
        body: dict[str, Any] = {"code": code, "message": message}
        if data:
            body["data"] = data
        return httpx.Response(status, json=body)

    @staticmethod
    def _ok(body: Any, msgpack: bool) -> httpx.Response:
        if msgpack:
            return httpx.Response(
                200, content=msgspec.msgpack.encode(body), headers={"content-type": MSGPACK}
            )
        return httpx.Response(
            200, content=msgspec.json.encode(body), headers={"content-type": "application/json"}
        )

    def _login(self, body: dict[str, Any]) -> httpx.Response:
        user = self.users.get(body["email"])
        if user is None or body["password"] != PASSWORD:
            return self._error(401, "invalid_credentials", "wrong email or password")
        token = uuid.uuid4().hex
        self.tokens[token] = (user["id"], body["device_id"])
        return httpx.Response(200, json={"access_token": token, "token_type": "bearer",
                                         "expires_at": "2099-01-01T00:00:00Z", "user": user})

    # -- push -------------------------------------------------------------------------------

    def _push_request(
        self, session: tuple[str, str], body: PushRequest, msgpack: bool
    ) -> httpx.Response:
        if body.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            return self._error(426, "upgrade_required", "upgrade", supported=[1])
        if len(body.mutations) > self.max_push:
            return httpx.Response(413, json={
                "code": "payload_too_large", "field": "mutations", "data": {"max": self.max_push},
                "message": f"at most {self.max_push} mutations per push",
            })
        device = str(body.device_id)
        last = self.last_mid.get(device, 0)
        new = [m for m in body.mutations if m.mid > last]
        if new and new[0].mid != last + 1:
            return self._error(409, "mutation_gap", "gap", resend_from=last + 1)
        results = []
        for mutation in body.mutations:
            digest = hashlib.sha256(msgspec.json.encode(mutation)).hexdigest()
            if mutation.mid <= last:
                stored = self.receipts.get((device, mutation.mid))
                if stored and stored[0] == digest:
                    results.append(stored[1])
                elif new:  # new numbers after a reused one are not applied, as the server does
                    return self._error(
                        409, "mutation_reused", "reused", last_mid=last, first_reused=mutation.mid
                    )
                else:
                    results.append({"mid": mutation.mid, "status": "rejected", "error": {
                        "code": "mutation_reused", "message": "reused"}})
                continue
            result = self._apply(device, mutation)
            if not self.echo_applied and result["status"] == "applied" and mutation.op == "upsert":
                record = result.pop("record", None)
                if record is not None:
                    changed = {
                        k: v
                        for k, v in record.items()
                        if k != "version" and result["expected"].get(k) != v
                    }
                    if changed:
                        result["server_changes"] = changed
            result.pop("expected", None)
            self.receipts[(device, mutation.mid)] = (digest, result)
            self.last_mid[device] = last = mutation.mid
            self.applied.append((device, mutation.mid))
            results.append(result)
        return self._ok({"results": results, "last_mid": last}, msgpack)

    def _apply(self, device: str, m: Mutation) -> dict[str, Any]:
        key = (m.entity, str(m.id))
        current = self.records.get(key)

        def reject(code: str, message: str, field: str | None = None) -> dict[str, Any]:
            error = {"code": code, "message": message, **({"field": field} if field else {})}
            result = {"mid": m.mid, "status": "rejected", "error": error}
            if current is not None:
                result["record"] = dict(current)
                result["version"] = current["version"]
            return result

        if m.entity in self.read_only:
            return reject("read_only_entity", "read only")
        if key in self.deleted:
            return reject("record_deleted", "deleted")
        if "bad" in m.changes:
            return reject("validation_error", "bad value", "bad")
        if m.op == "delete":
            if current is None:
                return reject("not_held", "unknown record")
            self.delete(*key)
            return {"mid": m.mid, "status": "applied"}
        if m.op != "upsert":
            if current is None:
                return reject("not_held", "unknown record")
            action = m.op.split(".", 1)[1]
            changes = {"status": f"{action}_done", **{f"last_{k}": v for k, v in m.changes.items()}}
            version = self.put(m.entity, {"id": key[1], **changes}, m.hlc)
            return {"mid": m.mid, "status": "applied", "version": version,
                    "record": dict(self.records[key])}
        if current is None:
            if m.base_version != 0:
                return reject("not_held", "unknown record")
            version = self._write(key, m.changes, m.hlc, device)
            return {"mid": m.mid, "status": "applied", "version": version,
                    "record": dict(self.records[key]), "expected": {"id": key[1], **m.changes}}
        clocks = self.clocks.get(key, {})
        writes: dict[str, Any] = {}
        conflicts = []
        concurrent = False
        for name, value in m.changes.items():
            version, hlc, writer = clocks.get(name, (0, "", None))
            if version <= m.base_version or writer == device:
                writes[name] = value
                continue
            concurrent = True
            if current.get(name) == value:
                continue
            kept = "yours" if m.hlc > hlc else "theirs"
            conflicts.append({"field": name, "yours": value, "theirs": current.get(name),
                              "kept": kept})
            if kept == "yours":
                writes[name] = value
        # someone else wrote the record since the device's base: the result is at least merged
        concurrent = concurrent or any(
            version > m.base_version and writer != device
            for version, _hlc, writer in clocks.values()
        )
        version = self._write(key, writes, m.hlc, device)
        status = "conflict" if conflicts else "merged" if concurrent else "applied"
        result: dict[str, Any] = {"mid": m.mid, "status": status, "version": version,
                                  "record": dict(self.records[key])}
        if conflicts:
            result["conflicts"] = conflicts
            result["conflict_id"] = str(uuid.uuid4())
        if status == "applied":
            result["expected"] = {**current, **m.changes}
        return result

    def _write(self, key: tuple[str, str], writes: dict[str, Any], hlc: str, device: str) -> int:
        current = self.records.get(key, {"id": key[1], "version": 0})
        version = int(current["version"]) + 1
        self.records[key] = record = {**current, **writes, "version": version}
        if self.compute is not None:
            self.compute(key[0], record)
        clocks = self.clocks.setdefault(key, {})
        for name in writes:
            clocks[name] = (version, hlc, device)
        self._log(key, "upsert")
        return version

    # -- pull -------------------------------------------------------------------------------

    def _pull_request(self, body: PullRequest, msgpack: bool) -> httpx.Response:
        if body.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            return self._error(426, "upgrade_required", "upgrade", supported=[1])
        if not 1 <= body.limit <= self.max_limit:
            return httpx.Response(422, json={
                "code": "validation_error", "field": "limit",
                "message": f"limit must be between 1 and {self.max_limit}",
            })
        reset = False
        initial: tuple[int, int] | None = None  # (total, sent) while an initial sync runs
        if body.cursor is None:
            position = 0
        elif not body.cursor.startswith(f"{self.key}:"):
            return self._error(400, "invalid_cursor", "garbage cursor")
        else:
            parts = [int(p) for p in body.cursor.split(":")[1:]]
            position = parts[0]
            if len(parts) == 3:
                initial = (parts[1], parts[2])
            if position < self.horizon:
                position, reset, initial = 0, True, None
        rows = sorted(
            (seq, op, key) for key, (seq, op) in self.log.items()
            if seq > position and not (position == 0 and op != "upsert")
        )
        if position == 0:
            initial = (len(rows), 0)
        page = rows[: body.limit]
        changes = []
        for _seq, op, (entity, rid) in page:
            change: dict[str, Any] = {"entity": entity, "id": rid, "op": op}
            if op == "upsert":
                record = self.records[(entity, rid)]
                change["version"] = record["version"]
                change["record"] = record
            changes.append(change)
        has_more = len(rows) > len(page)
        end = page[-1][0] if has_more else max(self.seq, position)
        cursor = f"{self.key}:{end}"
        out: dict[str, Any] = {"changes": changes, "cursor": cursor, "has_more": has_more}
        if reset:
            out["reset"] = True
        if initial is not None:
            total, sent = initial[0], initial[1] + len(page)
            out["progress"] = {"total": total, "sent": sent}
            if has_more:
                out["cursor"] = f"{cursor}:{total}:{sent}"
        return self._ok(out, msgpack)
