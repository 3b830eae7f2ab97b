"""The SDK recovering from what the server says about the device: deactivation, a cursor it no
longer accepts, mutation numbers it already used, and fields it set on an applied write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from client_sdk import (
    AccessRevoked,
    AuthError,
    InvalidCursor,
    NetworkError,
    OutpostClient,
    RequestError,
)
from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer
from tests.unit.sdk.test_sync import pushes, seed_accounts


def backup(client: OutpostClient, path: Path) -> None:
    """Copy the client's local database as a phone backup would (SQLite's backup API)."""
    target = sqlite3.connect(path)
    with client.store.reading() as conn:
        conn.backup(target)
    target.close()


def local_rows(client: OutpostClient) -> dict[str, int]:
    with client.store.reading() as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("records", "outbox", "conflicts", "rejected")
        }


# -- deactivation -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["user_deactivated", "device_deactivated"])
def test_a_deactivated_user_or_device_is_wiped_and_the_discarded_edits_counted(
    make_client: MakeClient, server: FakeServer, code: str
) -> None:
    ids = seed_accounts(server, 3)
    client = make_client()
    client.sync()
    client.update("account", ids[0], {"name": "unsent"})
    client.create("account", {"name": "new, unsent"})
    server.deactivated[server.users["rep@example.com"]["id"]] = code

    with pytest.raises(AccessRevoked) as info:
        client.sync()

    assert info.value.code == code and info.value.discarded == 2
    assert local_rows(client) == {"records": 0, "outbox": 0, "conflicts": 0, "rejected": 0}
    status = client.status()
    assert not status.has_cursor and not status.logged_in and status.pending == 0
    assert status.last_error_code == code
    assert client.user is None and client.count("account") == 0
    assert client.status().last_mid == 2  # numbers are never reused, even after a wipe


def test_a_token_merely_revoked_keeps_the_local_data(
    make_client: MakeClient, server: FakeServer
) -> None:
    ids = seed_accounts(server, 2)
    client = make_client()
    client.sync()
    client.update("account", ids[0], {"name": "unsent"})
    server.tokens.clear()  # logged out elsewhere: log in again, nothing is lost

    with pytest.raises(AuthError) as info:
        client.sync()

    assert not isinstance(info.value, AccessRevoked) and info.value.code == "not_authenticated"
    assert client.count("account") == 2 and client.status().pending == 1


# -- a cursor the server no longer accepts ----------------------------------------------------


def test_an_invalid_cursor_resyncs_the_scope_and_keeps_the_outbox(
    make_client: MakeClient, server: FakeServer
) -> None:
    ids = seed_accounts(server, 3)
    client = make_client()
    client.sync()
    with client.store.transaction() as conn:  # a record the server no longer lists for us
        conn.execute(
            "INSERT INTO records(entity, id, version, data) VALUES ('account', 'stale', 1, '{}')"
        )
        # what a cursor signed with the server's previous secret key amounts to
        client.store.set_meta(conn, "cursor", "signed-with-the-old-key")
    server.fail("/sync/push", "drop_request", "drop_request", "drop_request", "drop_request")
    client.update("account", ids[0], {"city": "kept"})
    with pytest.raises(NetworkError):  # the push fails; the edit stays queued
        client.sync()

    report = client.sync()

    assert report.reset and report.pushed == 1
    assert client.get("account", "stale") is None
    assert client.count("account") == 3
    assert client.get("account", ids[0])["city"] == "kept"  # type: ignore[index]
    assert server.records[("account", ids[0])]["city"] == "kept"
    assert client.status().has_cursor
    client.sync()  # and the new cursor works
    pulls = [b for p, b in server.requests if p == "/sync/pull"]
    assert pulls[-1].cursor is not None and pulls[-1].cursor.startswith(f"{server.key}:")


def test_a_cursor_refused_between_pages_restarts_the_pull_as_a_reset(
    make_client: MakeClient, server: FakeServer
) -> None:
    ids = seed_accounts(server, 30)
    client = make_client(pull_limit=10)
    client.sync()
    with client.store.transaction() as conn:
        client.store.set_meta(conn, "cursor", None)  # an initial sync again, paged by 10
        conn.execute("DELETE FROM records")
    pulls: list[str] = []

    def rotate_after_the_first_page(path: str) -> None:
        if path == "/sync/pull":
            pulls.append(path)
            if len(pulls) == 2:  # the server restarts with another key mid-stream
                server.key = "k2"

    server.on_request = rotate_after_the_first_page
    seen: list[tuple[int, int | None]] = []
    report = client.sync(progress=lambda received, total: seen.append((received, total)))

    assert report.reset and client.count("account") == 30
    assert {a["id"] for a in client.query("account")} == set(ids)
    assert client.status().has_cursor
    assert seen[-1] == (30, 30)


def test_a_fresh_stream_refused_too_is_raised(make_client: MakeClient, server: FakeServer) -> None:
    client = make_client()
    with client.store.transaction() as conn:
        client.store.set_meta(conn, "cursor", "garbage")
    original = server._pull_request

    def refuse_everything(body, msgpack):  # type: ignore[no-untyped-def]
        return server._error(400, "invalid_cursor", "no")

    server._pull_request = refuse_everything  # type: ignore[method-assign]
    with pytest.raises(InvalidCursor):
        client.sync()
    assert len([p for p, _ in server.requests if p == "/sync/pull"]) == 2
    server._pull_request = original  # type: ignore[method-assign]


# -- a device restored from a backup ----------------------------------------------------------


@pytest.mark.parametrize("new_edits", [2, 5], ids=["all-reused", "reused-then-new"])
def test_a_restored_backup_renumbers_new_mutations_above_the_servers_last_mid(
    make_client: MakeClient, server: FakeServer, tmp_path: Path, new_edits: int
) -> None:
    ids = seed_accounts(server, 1)
    phone = make_client("phone")
    phone.sync()
    phone.update("account", ids[0], {"name": "before the backup"})
    phone.sync()
    backup(phone, tmp_path / "restored.sqlite3")
    for n in range(3):  # made after the backup: the server applied mutations 2, 3 and 4
        phone.create("contact", {"account_id": ids[0], "name": f"lost phone {n}"})
    phone.sync()
    phone.close()

    restored = make_client("restored", login=False)
    assert restored.device_id == phone.device_id and restored.status().last_mid == 1
    made = [
        restored.create("contact", {"account_id": ids[0], "name": f"restored {n}"})
        for n in range(new_edits)
    ]
    report = restored.sync()

    assert report.renumbered == new_edits and report.rejected == 0
    assert restored.rejected_mutations() == [] and restored.status().pending == 0
    for n, rid in enumerate(made):
        assert server.records[("contact", rid)]["name"] == f"restored {n}"
        assert restored.get("contact", rid) == server.records[("contact", rid)]
    # applied once each, in the order they were made, under numbers after the server's
    mids = [mid for _device, mid in server.applied]
    assert mids == list(range(1, 5 + new_edits))
    assert restored.count("contact") == 3 + new_edits
    assert restored.status().last_mid == 4 + new_edits
    restored.create("contact", {"account_id": ids[0], "name": "later"})
    restored.sync()
    assert pushes(server)[-1].mutations[0].mid == 5 + new_edits


# -- applied results carry what the server set ------------------------------------------------


def test_applied_results_bring_the_fields_the_server_set(
    make_client: MakeClient, server: FakeServer
) -> None:
    [rid] = seed_accounts(server, 1)
    server.echo_applied = False  # as the real server: applied upserts carry server_changes

    def compute(entity: str, record: dict[str, object]) -> None:
        if entity == "order":
            record.setdefault("status", "draft")
            lines = record.get("lines") or []
            record["total"] = f"{sum(int(q) * 2 for q in lines):.2f}"  # type: ignore[union-attr,call-overload]

    server.compute = compute
    client = make_client()
    client.sync()
    order = client.create("order", {"account_id": rid, "lines": [1, 2]})
    client.update("account", rid, {"city": "Caen"})
    server.fail("/sync/pull", "400")  # the pull that would bring the server's copy fails

    with pytest.raises(RequestError):
        client.sync()

    assert client.get("order", order) == server.records[("order", order)]
    assert client.get("order", order)["total"] == "6.00"  # type: ignore[index]
    assert client.get("order", order)["status"] == "draft"  # type: ignore[index]
    assert client.get("account", rid) == server.records[("account", rid)]
    client.update("order", order, {"lines": [1, 2, 3]})
    with pytest.raises(RequestError):
        server.fail("/sync/pull", "400")
        client.sync()
    assert client.get("order", order)["total"] == "12.00"  # type: ignore[index]
    assert client.get("order", order) == server.records[("order", order)]
