"""How one push batch's results are stored: folded per record in mid order, rebased over what is
still pending, and written with a few statements per batch, whatever its size."""

from __future__ import annotations

import json
import uuid
from typing import Any

from client_sdk import OutpostClient, outbox
from client_sdk.models import SyncReport
from client_sdk.store import LocalStore, dumps
from client_sdk.sync import Syncer
from protocol.errors import ErrorBody
from protocol.sync import FieldConflict, MutationResult
from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer

NOW = "2024-05-01T12:00:00+00:00"


def syncer(client: OutpostClient, push_batch: int = 500) -> Syncer:
    return Syncer(client.store, client.transport, client.device_id, push_batch=push_batch,
                  now=lambda: NOW)


def synced(client: OutpostClient, record: dict[str, Any]) -> str:
    """Store ``record`` as a pulled server copy with nothing pending; returns its id."""
    with client.store.transaction() as conn:
        client.store.put_row(conn, "account", record["id"], record["version"], dumps(record),
                             None, False)
    return str(record["id"])


def apply(
    client: OutpostClient, results: list[MutationResult], batch: int = 500
) -> tuple[int, SyncReport]:
    """Apply ``results`` to the oldest ``batch`` outbox entries, as one push would."""
    with client.store.reading() as conn:
        entries = outbox.batch(conn, batch)
    report = SyncReport()
    return syncer(client)._apply_results(entries, results, report), report


def row(client: OutpostClient, record_id: str) -> tuple[int, Any, Any, int] | None:
    """(version, data, base, pending) with the JSON columns decoded."""
    with client.store.reading() as conn:
        found = LocalStore.get_row(conn, "account", record_id)
    if found is None:
        return None
    version, data, base, pending = found
    return version, _decoded(data), _decoded(base), pending


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def refusal(mid: int, code: str) -> MutationResult:
    return MutationResult(mid=mid, status="rejected", error=ErrorBody(code=code, message=code))


def test_results_for_one_record_fold_in_mid_order(make_client: MakeClient) -> None:
    client = make_client(login=False)
    rid = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "a", "city": "x"})
    client.update("account", rid, {"name": "b"})       # 1: answered with the record
    client.update("account", rid, {"city": "y"})       # 2: applied, no record
    client.update("account", rid, {"notes": "n"})      # 3: merged, no record
    client.update("account", rid, {"name": "refused"})  # 4: rejected, no record
    echoed = {"id": rid, "version": 2, "name": "b", "city": "x", "owner_id": "server-side"}
    results = [  # out of order: the SDK sorts them
        MutationResult(mid=4, status="rejected", error=ErrorBody(code="validation_error",
                                                                 message="no", field="name")),
        MutationResult(mid=2, status="applied", version=3),
        MutationResult(mid=1, status="applied", version=2, record=echoed),
        MutationResult(mid=3, status="merged", version=4),
    ]

    acked, report = apply(client, results)

    assert acked == 4 and client.pending_mutations() == []
    assert (report.applied, report.merged, report.rejected) == (2, 1, 1)
    final = {"id": rid, "version": 4, "name": "b", "city": "y", "owner_id": "server-side",
             "notes": "n"}
    assert row(client, rid) == (4, final, None, 0)  # the refused edit left the view
    assert [(r.mid, r.code, r.field) for r in client.rejected_mutations()] == [
        (4, "validation_error", "name")
    ]
    assert client.status().acked_mid == 4


def test_pending_edits_after_the_acknowledged_ones_are_replayed_on_the_new_base(
    make_client: MakeClient,
) -> None:
    client = make_client(login=False)
    rid = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "a"})
    client.update("account", rid, {"city": "Lyon"})  # 1
    new = client.create("account", {"name": "new"})  # 2
    client.update("account", rid, {"name": "b"})     # 3
    client.update("account", rid, {"city": "Caen"})  # 4: not in the batch
    client.delete("account", new)                    # 5: not in the batch
    server_copy = {"id": rid, "version": 2, "name": "a", "city": "Lyon"}
    results = [
        MutationResult(mid=1, status="applied", version=2, record=server_copy),
        MutationResult(mid=2, status="applied", version=1),
        MutationResult(mid=3, status="applied", version=3),
    ]

    acked, _ = apply(client, results, batch=3)

    assert acked == 3
    assert [m.mid for m in client.pending_mutations()] == [4, 5]
    base = {"id": rid, "version": 3, "name": "b", "city": "Lyon"}
    assert row(client, rid) == (3, {**base, "city": "Caen"}, base, 1)
    # the create is acknowledged but the delete still waits: hidden, with the server's copy
    assert row(client, new) == (1, None, {"id": new, "version": 1, "name": "new"}, 1)
    assert client.get("account", new) is None
    with client.store.reading() as conn:
        [entry] = outbox.entries_of(conn, [("account", rid)])[("account", rid)]
    assert entry.mid == 4 and entry.base_version == 1  # still the version it was made on


def test_a_result_older_than_a_pulled_copy_does_not_replace_it(make_client: MakeClient) -> None:
    client = make_client(login=False)
    stale = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "a"})
    fresh = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "f"})
    client.update("account", stale, {"city": "Lyon"})
    client.update("account", fresh, {"city": "Nice"})
    pulled = {"id": stale, "version": 5, "name": "pulled", "city": "Lyon"}
    with client.store.transaction() as conn:  # a pull brought version 5 meanwhile
        outbox.rebase_many(client.store, conn, {("account", stale): (5, dumps(pulled))})
    results = [
        MutationResult(mid=1, status="applied", version=2,
                       record={"id": stale, "version": 2, "name": "a", "city": "Lyon"}),
        MutationResult(mid=2, status="applied", version=2),
    ]

    apply(client, results)

    assert row(client, stale) == (5, pulled, None, 0)
    assert row(client, fresh) == (2, {"id": fresh, "version": 2, "name": "f", "city": "Nice"},
                                  None, 0)


def test_refused_and_deleted_records_without_a_server_copy_leave_the_device(
    make_client: MakeClient,
) -> None:
    client = make_client(login=False)
    kept = synced(client, {"id": str(uuid.uuid4()), "version": 3, "name": "k"})
    gone = synced(client, {"id": str(uuid.uuid4()), "version": 2, "name": "g"})
    deleted = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "d"})
    created = client.create("account", {"name": "c"})
    client.update("account", kept, {"name": "refused"})
    client.update("account", gone, {"name": "out of scope"})
    client.delete("account", deleted)
    results = [refusal(1, "validation_error"), refusal(2, "validation_error"),
               refusal(3, "out_of_scope"), MutationResult(mid=4, status="applied")]

    acked, report = apply(client, results)

    assert acked == 4 and report.rejected == 3 and report.applied == 1
    assert row(client, created) is None  # a refused create: the server has no copy
    assert row(client, kept) == (3, {"id": kept, "version": 3, "name": "k"}, None, 0)
    assert row(client, gone) is None
    assert row(client, deleted) is None
    with client.store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 1


def test_a_batch_mixing_every_status(make_client: MakeClient, server: FakeServer) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for i, rid in enumerate(ids):
        server.put("account", {"id": rid, "name": f"a{i}", "owner_id": "o"})
    a, b, c, d, e = ids
    client = make_client()
    client.sync()
    server.put("account", {"id": b, "owner_id": "boss"})  # another writer: merged
    server.put("account", {"id": c, "name": "theirs"}, hlc="9999999999999-00000-srv")
    client.update("account", a, {"city": "A"})
    client.update("account", b, {"city": "B"})
    client.update("account", c, {"name": "mine"})
    client.update("account", e, {"bad": 1})
    refused = client.create("account", {"bad": 2})
    client.delete("account", d)
    report = SyncReport()

    syncer(client).push(report)  # the push alone: what the device holds comes from its results

    assert len([p for p, _ in server.requests if p == "/sync/push"]) == 1
    assert (report.pushed, report.applied, report.merged, report.conflicts, report.rejected) == (
        6, 2, 1, 1, 2
    )
    for rid in (a, b, c, e):
        assert client.get("account", rid) == server.records[("account", rid)]
    assert client.get("account", b)["owner_id"] == "boss"  # type: ignore[index]
    assert client.get("account", c)["name"] == "theirs"  # type: ignore[index]
    assert client.get("account", e) == {"id": e, "version": 1, "name": "a4", "owner_id": "o"}
    assert client.get("account", d) is None and client.get("account", refused) is None
    [conflict] = client.conflicts()
    assert (conflict.mid, conflict.record_id) == (3, c)
    assert [(f.field, f.yours, f.theirs, f.kept) for f in conflict.fields] == [
        ("name", "mine", "theirs", "theirs")
    ]
    assert [(r.mid, r.record_id, r.code) for r in client.rejected_mutations()] == [
        (4, e, "validation_error"), (5, refused, "validation_error")
    ]
    assert client.status().pending == 0
    with client.store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM records WHERE pending = 1").fetchone()[0] == 0


def test_conflicts_and_rejections_keep_the_order_of_their_results(
    make_client: MakeClient,
) -> None:
    client = make_client(login=False)
    rid = synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": "a"})
    for n in range(6):
        client.update("account", rid, {"name": f"n{n}"})
    clash = [FieldConflict(field="name", yours="mine", theirs="theirs", kept="theirs")]
    results = [
        MutationResult(mid=mid, status="conflict", version=mid + 1, conflicts=clash)
        if mid % 2 else
        MutationResult(mid=mid, status="rejected", error=ErrorBody(code="x", message=str(mid)))
        for mid in (6, 5, 4, 3, 2, 1)
    ]

    apply(client, results)

    assert [c.mid for c in client.conflicts()] == [1, 3, 5]
    assert [(r.mid, r.message) for r in client.rejected_mutations()] == [
        (2, "2"), (4, "4"), (6, "6")
    ]
    # mid 5 was the last accepted upsert: its changes over mid 3's copy, at its version
    assert row(client, rid) == (6, {"id": rid, "version": 6, "name": "n4"}, None, 0)


def test_rows_are_read_once_per_batch_not_once_per_record(
    make_client: MakeClient, server: FakeServer
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(120)]
    for rid in ids:
        server.put("account", {"id": rid, "name": "a", "owner_id": "o"})
    client = make_client()
    client.sync()
    for n, rid in enumerate(ids):
        client.update("account", rid, {"city": f"c{n}"})
    for n in range(30):
        client.create("account", {"name": f"new{n}"})
    statements: list[str] = []
    report = SyncReport()

    client.store.conn.set_trace_callback(statements.append)
    try:
        syncer(client, push_batch=100).push(report)
    finally:
        client.store.conn.set_trace_callback(None)

    assert report.pushed == 150 and report.applied == 150
    reads = [s for s in statements if s.startswith("SELECT")]
    # per batch: the records concerned at once, then what is still pending on them
    assert len([s for s in reads if "FROM records" in s]) == 2
    assert len([s for s in reads if "FROM outbox WHERE entity" in s]) == 2
    assert all(client.get("account", rid) == server.records[("account", rid)] for rid in ids)


def test_a_batch_bigger_than_one_in_list_reads_every_record(make_client: MakeClient) -> None:
    client = make_client(login=False)
    accounts = [synced(client, {"id": str(uuid.uuid4()), "version": 1, "name": f"a{n}"})
                for n in range(700)]
    for rid in accounts:
        client.update("account", rid, {"city": "x"})
    visits = [client.create("visit", {"n": n}) for n in range(400)]
    for rid in visits[:10]:
        client.update("visit", rid, {"n": -1})  # still pending after the batch
    results = [MutationResult(mid=mid, status="applied", version=2 if mid <= 700 else 1)
               for mid in range(1, 1101)]

    acked, _ = apply(client, results, batch=1100)

    assert acked == 1100
    assert [m.mid for m in client.pending_mutations()] == list(range(1101, 1111))
    assert all(row(client, rid) == (2, {"id": rid, "version": 2, "name": f"a{n}", "city": "x"},
                                    None, 0) for n, rid in enumerate(accounts))
    assert client.get("visit", visits[0]) == {"id": visits[0], "version": 1, "n": -1}
    assert client.get("visit", visits[-1]) == {"id": visits[-1], "version": 1, "n": 399}
    with client.store.reading() as conn:
        assert LocalStore.get_rows(conn, [("visit", "absent"), ("account", accounts[0])]) == {
            ("account", accounts[0]): (2, dumps(client.get("account", accounts[0])), None, 0)
        }
