"""The sync loop against the in-memory fake server: push, pull, rebase, faults, resets."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from client_sdk import (
    NetworkError,
    RequestError,
    ServerError,
    UpgradeRequired,
)
from client_sdk.errors import MutationGapError
from protocol.sync import PushRequest
from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer


def pushes(server: FakeServer) -> list[PushRequest]:
    return [body for path, body in server.requests if path == "/sync/push"]


def during_next_pull(server: FakeServer, action: Callable[[], None]) -> None:
    """Run ``action`` (an edit from the app's UI thread) when the next pull reaches the server:
    it lands after the push phase, so the pulled page meets a pending mutation."""

    def hook(path: str) -> None:
        if path == "/sync/pull":
            server.on_request = None
            action()

    server.on_request = hook


def seed_accounts(server: FakeServer, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for i, rid in enumerate(ids):
        server.put("account", {"id": rid, "name": f"a{i}", "owner_id": "o"})
    return ids


def test_login_stores_token_and_user(make_client: MakeClient, server: FakeServer) -> None:
    client = make_client()
    assert client.user is not None and client.user.email == "rep@example.com"
    assert client.status().logged_in
    token = client.transport.token
    assert token in server.tokens and server.tokens[token][1] == str(client.device_id)
    client.logout()
    assert token not in server.tokens
    assert client.user is None


def test_initial_sync_pages_with_progress(make_client: MakeClient, server: FakeServer) -> None:
    ids = seed_accounts(server, 25)
    client = make_client(pull_limit=10)
    seen: list[tuple[int, int | None]] = []

    report = client.sync(progress=lambda received, total: seen.append((received, total)))

    assert seen == [(10, 25), (20, 25), (25, 25)]
    assert report.received == 25 and report.pages == 3
    assert client.count("account") == 25
    assert client.get("account", ids[3]) == {"id": ids[3], "name": "a3", "owner_id": "o",
                                             "version": 1}
    status = client.status()
    assert status.has_cursor and status.last_success_at is not None and status.pending == 0


def test_offline_edits_are_pushed_once_and_replaced_by_the_server_copy(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    rid = client.create("account", {"name": "Acme"})
    client.update("account", rid, {"city": "Lyon"})

    report = client.sync()

    assert report.pushed == 2 and report.applied == 2
    assert server.records[("account", rid)] == {"id": rid, "version": 2, "name": "Acme",
                                                "city": "Lyon"}
    assert client.get("account", rid) == server.records[("account", rid)]
    assert client.status().pending == 0
    assert server.applied == [(str(client.device_id), 1), (str(client.device_id), 2)]
    client.sync()
    assert len(pushes(server)) == 1  # nothing left to push


def test_edit_carries_the_last_known_server_version(
    make_client: MakeClient, server: FakeServer
) -> None:
    [rid] = seed_accounts(server, 1)
    server.put("account", {"id": rid, "name": "v2"})
    client = make_client()
    client.sync()
    client.update("account", rid, {"city": "x"})
    client.update("account", rid, {"city": "y"})
    assert [m.base_version for m in client.pending_mutations()] == [2, 2]


def test_retries_dropped_requests_and_5xx_with_growing_backoff(
    make_client: MakeClient, server: FakeServer, sleeps: list[float]
) -> None:
    client = make_client()
    client.create("account", {"name": "a"})
    server.fail("/sync/push", "drop_request", "500", "429")

    client.sync()

    assert len(server.applied) == 1
    assert len(sleeps) == 3
    # delay n is in [d/2, d] with d = 0.1 * 2**(n-1)
    for n, slept in enumerate(sleeps, start=1):
        ceiling = 0.1 * 2 ** (n - 1)
        assert ceiling / 2 <= slept <= ceiling


def test_gives_up_after_bounded_attempts_and_keeps_the_outbox(
    make_client: MakeClient, server: FakeServer, sleeps: list[float]
) -> None:
    client = make_client()
    client.create("account", {"name": "a"})
    server.fail("/sync/push", *["drop_request"] * 4)

    with pytest.raises(NetworkError):
        client.sync()

    assert len(sleeps) == 3  # 4 attempts, 3 waits
    status = client.status()
    assert status.pending == 1 and status.last_error_code == "network"
    client.sync()
    assert client.status().pending == 0 and client.status().last_error is None


def test_server_errors_after_all_attempts_are_typed(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    server.fail("/sync/pull", *["500"] * 4)
    with pytest.raises(ServerError):
        client.sync()


def test_4xx_is_not_retried(
    make_client: MakeClient, server: FakeServer, sleeps: list[float]
) -> None:
    client = make_client()
    seen: list[str] = []
    server.on_request = seen.append
    server.fail("/sync/pull", "400")
    with pytest.raises(RequestError) as info:
        client.sync()
    assert info.value.status == 400 and info.value.code == "bad_request" and sleeps == []
    assert seen.count("/sync/pull") == 1


def test_lost_response_is_resent_with_the_same_mids_and_applied_once(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    rid = client.create("account", {"name": "a"})
    client.update("account", rid, {"name": "b"})
    server.fail("/sync/push", "drop_response")

    client.sync()

    first, second = pushes(server)
    assert first == second  # same mids, same bodies
    assert [m.mid for m in second.mutations] == [1, 2]
    assert server.applied == [(str(client.device_id), 1), (str(client.device_id), 2)]
    assert server.records[("account", rid)]["version"] == 2
    assert client.get("account", rid)["version"] == 2  # type: ignore[index]


def test_killed_after_the_push_committed_resumes_without_duplicates(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    rid = client.create("account", {"name": "a"})

    def kill(path: str) -> None:
        if path == "/sync/pull":
            raise KeyboardInterrupt  # the app is killed before the pull starts

    server.fail("/sync/push", "drop_response")
    client.transport.retry = type(client.transport.retry)(attempts=1)
    with pytest.raises(NetworkError):
        client.sync()
    server.on_request = kill
    with pytest.raises(KeyboardInterrupt):
        client.sync()  # push replays the stored result, then the "kill"
    assert client.status().pending == 0
    server.on_request = None
    client.sync()
    assert len(server.applied) == 1
    assert client.get("account", rid) == server.records[("account", rid)]


def test_killed_between_pull_pages_resumes_from_the_stored_cursor(
    make_client: MakeClient, server: FakeServer
) -> None:
    seed_accounts(server, 30)
    client = make_client(pull_limit=10)
    calls = {"n": 0}

    def kill_on_third_page(path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    server.on_request = kill_on_third_page
    with pytest.raises(KeyboardInterrupt):
        client.sync()
    assert client.count("account") == 20  # two pages, each committed with its cursor
    server.on_request = None
    before = len(server.requests)
    client.sync()
    assert client.count("account") == 30
    assert len(server.requests) - before == 1  # one page left, nothing pulled twice


def test_one_page_rebases_every_record_with_pending_edits(
    make_client: MakeClient, server: FakeServer
) -> None:
    rids = seed_accounts(server, 3)
    client = make_client()
    client.sync()
    for n, rid in enumerate(rids):
        server.put("account", {"id": rid, "name": f"server {n}"})
    created: list[str] = []

    def edit_offline() -> None:
        for n, rid in enumerate(rids):
            client.update("account", rid, {"city": f"city {n}"})
        created.append(client.create("account", {"name": "made here", "owner_id": "o"}))

    during_next_pull(server, edit_offline)
    client.sync()

    for n, rid in enumerate(rids):  # each: the server's new copy with the device's edit on top
        assert client.get("account", rid) == {
            "id": rid, "version": 2, "name": f"server {n}", "owner_id": "o", "city": f"city {n}"
        }
    assert client.get("account", created[0])["name"] == "made here"  # untouched by the page
    client.sync()
    for rid in rids:
        assert client.get("account", rid) == server.records[("account", rid)]


def test_pending_edits_are_rebased_over_an_incoming_server_version(
    make_client: MakeClient, server: FakeServer
) -> None:
    [rid] = seed_accounts(server, 1)
    client = make_client()
    client.sync()
    server.put("account", {"id": rid, "name": "renamed on the server"})
    during_next_pull(server, lambda: client.update("account", rid, {"city": "Lyon"}))

    client.sync()

    assert client.get("account", rid) == {
        "id": rid, "version": 2, "name": "renamed on the server", "owner_id": "o", "city": "Lyon"
    }
    assert [m.base_version for m in client.pending_mutations()] == [1]
    client.update("account", rid, {"city": "Paris"})
    assert client.pending_mutations()[-1].base_version == 2
    client.sync()
    assert server.records[("account", rid)]["city"] == "Paris"
    assert server.records[("account", rid)]["name"] == "renamed on the server"
    assert client.get("account", rid) == server.records[("account", rid)]


def test_evicted_and_deleted_records_leave_but_their_outbox_stays(
    make_client: MakeClient, server: FakeServer
) -> None:
    a, b = seed_accounts(server, 2)
    client = make_client()
    client.sync()
    server.evict("account", a)
    server.delete("account", b)

    def edit() -> None:
        client.update("account", a, {"city": "x"})
        client.update("account", b, {"city": "y"})

    during_next_pull(server, edit)
    client.sync()

    assert client.get("account", a) is None and client.get("account", b) is None
    assert [m.record_id for m in client.pending_mutations()] == [a, b]
    client.sync()
    rejected = client.rejected_mutations()
    assert [(r.record_id, r.code) for r in rejected] == [(b, "record_deleted")]
    assert client.get("account", b) is None and client.status().pending == 0


def test_reset_drops_synced_records_keeps_the_outbox_and_resyncs(
    make_client: MakeClient, server: FakeServer
) -> None:
    a, b = seed_accounts(server, 2)
    client = make_client()
    client.sync()
    with client.store.transaction() as conn:  # a record the server no longer lists for us
        conn.execute(
            "INSERT INTO records(entity, id, version, data) VALUES ('account', 'stale', 1, '{}')"
        )
    server.prune()
    created: list[str] = []

    def edit() -> None:
        created.append(client.create("account", {"name": "offline"}))
        client.update("account", a, {"city": "kept"})

    during_next_pull(server, edit)
    report = client.sync()

    assert report.reset
    assert client.get("account", "stale") is None
    assert client.get("account", created[0])["name"] == "offline"  # type: ignore[index]
    assert client.get("account", a)["city"] == "kept"  # type: ignore[index]
    assert client.get("account", b) is not None
    assert client.status().pending == 2
    client.sync()
    assert server.records[("account", a)]["city"] == "kept"
    assert client.count("account") == 3


def test_rejected_mutations_are_listed_and_the_local_copy_restored(
    make_client: MakeClient, server: FakeServer
) -> None:
    [rid] = seed_accounts(server, 1)
    client = make_client()
    client.sync()
    client.update("account", rid, {"bad": 1, "name": "refused"})
    created = client.create("account", {"bad": 2})
    kept = client.create("account", {"name": "fine"})

    report = client.sync()

    assert report.rejected == 2 and report.applied == 1
    rejected = client.rejected_mutations()
    assert [(r.mid, r.code, r.field) for r in rejected] == [
        (1, "validation_error", "bad"), (2, "validation_error", "bad")
    ]
    assert rejected[0].changes == {"bad": 1, "name": "refused"}
    assert client.get("account", rid)["name"] == "a0"  # type: ignore[index]
    assert client.get("account", created) is None
    assert client.get("account", kept)["version"] == 1  # type: ignore[index]
    client.dismiss(rejected_mids=[1])
    assert [r.mid for r in client.rejected_mutations()] == [2]


def test_conflicts_are_surfaced(make_client: MakeClient, server: FakeServer) -> None:
    [rid] = seed_accounts(server, 1)
    client = make_client()
    client.sync()
    client.update("account", rid, {"name": "mine", "city": "c"})
    server.put("account", {"id": rid, "name": "theirs"}, hlc="9999999999999-00000-srv")

    report = client.sync()

    assert report.conflicts == 1
    [conflict] = client.conflicts()
    assert conflict.record_id == rid and conflict.conflict_id is not None
    assert [(f.field, f.yours, f.theirs, f.kept) for f in conflict.fields] == [
        ("name", "mine", "theirs", "theirs")
    ]
    assert client.get("account", rid) == server.records[("account", rid)]
    assert client.get("account", rid)["city"] == "c"  # type: ignore[index]


def test_delete_then_sync_removes_everywhere(make_client: MakeClient, server: FakeServer) -> None:
    [rid] = seed_accounts(server, 1)
    client = make_client()
    client.sync()
    client.delete("account", rid)
    client.sync()
    assert ("account", rid) not in server.records
    assert client.get("account", rid) is None
    with client.store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_action_result_comes_back_from_the_server(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    vid = client.create("visit", {"status": "planned"})
    client.action("visit", vid, "check_in", {"lat": 1.5}, local={"status": "checking in"})
    client.sync()
    assert client.get("visit", vid)["status"] == "check_in_done"  # type: ignore[index]
    assert client.get("visit", vid)["last_lat"] == 1.5  # type: ignore[index]


def test_gap_is_resent_from_the_asked_number_or_surfaced(
    make_client: MakeClient, server: FakeServer
) -> None:
    client = make_client()
    client.create("account", {"name": "a"})
    client.create("account", {"name": "b"})
    with client.store.transaction() as conn:  # mutation 1 vanished locally
        conn.execute("DELETE FROM outbox WHERE mid = 1")
    with pytest.raises(MutationGapError) as info:
        client.sync()
    assert info.value.data["resend_from"] == 1 and info.value.code == "mutation_gap"
    assert client.status().pending == 1


def test_upgrade_required_and_other_4xx_are_typed(
    make_client: MakeClient, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import client_sdk.sync as sync_module

    client = make_client()
    monkeypatch.setattr(sync_module, "SCHEMA_VERSION", 99)
    with pytest.raises(UpgradeRequired) as info:
        client.sync()
    assert info.value.data == {"supported": [1]}
    assert client.status().last_error_code == "upgrade_required"
    monkeypatch.undo()
    with pytest.raises(RequestError):  # an unknown endpoint: a plain 4xx
        client.transport.post("/nowhere", {})


def test_messagepack_round_trip(make_client: MakeClient, server: FakeServer) -> None:
    ids = seed_accounts(server, 3)
    client = make_client(msgpack=True)
    rid = client.create("account", {"name": "packed", "score": 1.25})
    client.sync()
    assert client.get("account", rid) == server.records[("account", rid)]
    assert client.get("account", ids[0])["name"] == "a0"  # type: ignore[index]
    assert client.count("account") == 4


def test_two_devices_converge(make_client: MakeClient, server: FakeServer) -> None:
    [rid] = seed_accounts(server, 1)
    one, two = make_client("one"), make_client("two")
    one.sync()
    two.sync()
    one.update("account", rid, {"name": "from one"})
    two.update("account", rid, {"city": "from two"})
    new = two.create("contact", {"account_id": rid, "name": "Ann"})
    one.sync()
    two.sync()
    one.sync()
    for client in (one, two):
        assert client.get("account", rid) == server.records[("account", rid)]
        assert client.get("contact", new) == server.records[("contact", new)]
    assert server.records[("account", rid)]["name"] == "from one"
    assert server.records[("account", rid)]["city"] == "from two"


def test_applied_results_without_the_record_keep_the_edit(
    make_client: MakeClient, server: FakeServer
) -> None:
    [rid] = seed_accounts(server, 1)
    server.echo_applied = False
    client = make_client()
    client.sync()
    client.update("account", rid, {"city": "Caen"})
    client.update("account", rid, {"name": "renamed"})
    new = client.create("contact", {"account_id": rid, "name": "Ann"})
    server.fail("/sync/pull", *["drop_request"] * 4)  # the pull that would refresh fails

    with pytest.raises(NetworkError):
        client.sync()

    assert client.status().pending == 0
    assert client.get("account", rid) == {"id": rid, "version": 3, "name": "renamed",
                                          "owner_id": "o", "city": "Caen"}
    assert client.get("contact", new) == {"id": new, "version": 1, "account_id": rid,
                                          "name": "Ann"}
    client.update("account", rid, {"city": "Brest"})
    assert client.pending_mutations()[-1].base_version == 3


def test_a_push_batch_the_server_refuses_as_too_large_is_halved_until_accepted(
    make_client: MakeClient, server: FakeServer
) -> None:
    rids = seed_accounts(server, 1)
    server.max_push = 3
    client = make_client(push_batch=10)
    client.sync()
    for n in range(10):
        client.update("account", rids[0], {"name": f"edit {n}"})
    report = client.sync()
    assert report.pushed == 10
    assert [mid for _device, mid in server.applied] == list(range(1, 11))  # once each, in order
    sizes = [len(body.mutations) for path, body in server.requests if path == "/sync/push"]
    assert sizes == [10, 5, 2, 2, 2, 2, 2]  # refused twice, then accepted batches of 2
    assert client.push_batch == 2  # the accepted size is kept
    assert client.get("account", rids[0])["name"] == "edit 9"
