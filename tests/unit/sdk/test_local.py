"""Local reads and writes: no network needed, outbox and data written atomically, indexes."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sdk import OutpostClient, RecordNotFound, outbox
from protocol import hlc
from tests.unit.sdk.conftest import MakeClient, offline_http

PLANNED = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[OutpostClient]:
    client = OutpostClient(http=offline_http(), db_path=tmp_path / "offline.sqlite3")
    yield client
    client.close()


def test_local_writes_and_reads_work_without_network(offline: OutpostClient) -> None:
    account = offline.create("account", {"name": "Acme", "latitude": 45.5})
    contact = offline.create("contact", {"account_id": account, "name": "Ann"})
    offline.update("account", account, {"city": "Lyon"})

    assert uuid.UUID(account).version == 7
    assert offline.get("account", account) == {
        "id": account, "version": 0, "name": "Acme", "latitude": 45.5, "city": "Lyon"
    }
    assert [c["id"] for c in offline.query("contact", {"account_id": account})] == [contact]
    pending = offline.pending_mutations()
    assert [(m.mid, m.entity, m.op, m.base_version) for m in pending] == [
        (1, "account", "upsert", 0), (2, "contact", "upsert", 0), (3, "account", "upsert", 0)
    ]
    assert offline.status().pending == 3


def test_delete_hides_the_record_and_queues_a_delete(offline: OutpostClient) -> None:
    rid = offline.create("contact", {"account_id": str(uuid.uuid4()), "name": "Gone"})
    offline.delete("contact", rid)

    assert offline.get("contact", rid) is None
    assert offline.count("contact") == 0
    assert [m.op for m in offline.pending_mutations()] == ["upsert", "delete"]
    with pytest.raises(RecordNotFound):
        offline.update("contact", rid, {"name": "again"})


def test_action_queues_entity_op_and_shows_local_values(offline: OutpostClient) -> None:
    vid = offline.create("visit", {"account_id": str(uuid.uuid4()), "planned_at": PLANNED})
    check_in = {"at": PLANNED, "latitude": 45.1, "longitude": 4.8}
    offline.action("visit", vid, "check_in", check_in, local={"status": "checked_in"})

    entry = offline.pending_mutations()[-1]
    assert entry.op == "visit.check_in"
    assert outbox.json_decode(entry.changes) == {
        "at": "2030-01-01T09:00:00Z", "latitude": 45.1, "longitude": 4.8
    }
    assert offline.get("visit", vid)["status"] == "checked_in"  # type: ignore[index]


def test_edits_of_unknown_records_and_system_fields_are_refused(offline: OutpostClient) -> None:
    with pytest.raises(RecordNotFound):
        offline.update("account", str(uuid.uuid4()), {"name": "x"})
    rid = offline.create("account", {"name": "x"})
    with pytest.raises(ValueError, match="version"):
        offline.update("account", rid, {"version": 9})
    with pytest.raises(ValueError):
        offline.query("account", {"name; DROP TABLE records": 1})
    assert offline.status().pending == 1


def test_crash_inside_the_write_leaves_neither_record_nor_outbox_entry(
    offline: OutpostClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = offline.create("account", {"name": "kept"})

    def crash(*args: object, **kwargs: object) -> int:
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(outbox, "append", crash)
    with pytest.raises(RuntimeError):
        offline.create("account", {"name": "lost"})
    with pytest.raises(RuntimeError):
        offline.update("account", kept, {"name": "changed"})
    monkeypatch.undo()

    assert [a["name"] for a in offline.query("account")] == ["kept"]
    assert offline.status().pending == 1
    # the failed writes used no mutation number
    offline.update("account", kept, {"name": "changed"})
    assert [m.mid for m in offline.pending_mutations()] == [1, 2]


def test_state_survives_reopening_and_mids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "device.sqlite3"
    first = OutpostClient(http=offline_http(), db_path=path)
    device = first.device_id
    rid = first.create("account", {"name": "a"})
    clock_before = first.pending_mutations()[-1].hlc
    first.close()

    again = OutpostClient(http=offline_http(), db_path=path)
    assert again.device_id == device
    with pytest.raises(ValueError):
        OutpostClient(http=offline_http(), db_path=path, device_id=uuid.uuid4())
    again.update("account", rid, {"name": "b"})
    entries = again.pending_mutations()
    assert [m.mid for m in entries] == [1, 2]
    assert entries[1].hlc > clock_before
    assert hlc.decode(entries[1].hlc)[2] == str(device)
    with again.store.transaction() as conn:
        outbox.remove(conn, [1, 2])
    again.update("account", rid, {"name": "c"})
    assert [m.mid for m in again.pending_mutations()] == [3]
    again.close()


def test_query_filters_orders_and_pages(offline: OutpostClient) -> None:
    owner = str(uuid.uuid4())
    for i, city in enumerate(["b", "a", "c", "a"]):
        offline.create("account", {"name": f"n{i}", "city": city, "owner_id": owner,
                                   "value_tier": "vip" if i % 2 == 0 else "key", "latitude": None})
    offline.create("account", {"name": "other", "city": "a", "owner_id": str(uuid.uuid4())})

    assert offline.count("account", {"owner_id": owner}) == 4
    assert [a["name"] for a in offline.query("account", {"city": "a"}, order_by="name")] == [
        "n1", "n3", "other"
    ]
    assert [a["name"] for a in offline.query("account", order_by="-name", limit=2)] == [
        "other", "n3"
    ]
    assert [a["name"] for a in offline.query("account", order_by="name", limit=2, offset=1)] == [
        "n1", "n2"
    ]
    assert offline.count("account", {"value_tier": "vip"}) == 2
    assert offline.count("account", {"latitude": None}) == 5
    assert offline.count("account", {"city": ["a", "c"]}) == 4
    assert offline.query("account", {"city": "zzz"}) == []


def test_foreign_key_lookups_use_an_index(offline: OutpostClient) -> None:
    with offline.store.reading() as conn:
        for field in ("account_id", "owner_id"):
            for order in (None, "name", "-id"):
                sql, params = offline.store.select_sql("contact", {field: "x"}, order, 10, 0)
                rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                plan = " ".join(str(r[-1]) for r in rows)
                assert f"USING INDEX ix_records_{field}" in plan, plan


def test_reading_thousands_of_records_by_account_is_fast(offline: OutpostClient) -> None:
    accounts = [str(uuid.uuid4()) for _ in range(200)]
    with offline.store.transaction() as conn:
        offline.store.put_server_rows(
            conn,
            [
                ("contact", cid, 1, f'{{"id":"{cid}","account_id":"{accounts[i % 200]}"}}')
                for i in range(20_000)
                for cid in [str(uuid.uuid4())]
            ],
        )
    started = time.perf_counter()
    for account in accounts:
        assert len(offline.query("contact", {"account_id": account})) == 100
    elapsed = time.perf_counter() - started
    # 200 lookups of 100 records among 20,000: a full scan each would take several seconds
    assert elapsed < 1.0, elapsed


def test_login_failure_is_typed_and_stores_nothing(make_client: MakeClient) -> None:
    from client_sdk import AuthError

    client = make_client(login=False)
    with pytest.raises(AuthError) as info:
        client.login("rep@example.com", "wrong")
    assert info.value.code == "invalid_credentials"
    assert client.user is None
    assert client.status().logged_in is False
    with pytest.raises(AuthError):
        client.sync()
