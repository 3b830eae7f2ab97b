"""The pipelined pull: page n+1 is requested while page n is applied, pages commit in order."""

from __future__ import annotations

import threading
import uuid

import pytest

from client_sdk import OutpostClient, ServerError, sync
from client_sdk.store import LocalStore
from protocol.sync import PullRequest
from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer


def seed_accounts(server: FakeServer, n: int) -> None:
    for i in range(n):
        server.put("account", {"id": str(uuid.uuid4()), "name": f"a{i}"})


def pulls(server: FakeServer) -> list[PullRequest]:
    return [body for path, body in server.requests if path == "/sync/pull"]


def stored_cursor(client: object) -> str | None:
    store: LocalStore = client.store  # type: ignore[attr-defined]
    with store.reading() as conn:
        return LocalStore.get_meta(conn, "cursor")  # type: ignore[no-any-return]


def pull_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "outpost-pull"]


def test_next_page_is_requested_while_the_current_one_is_applied(
    make_client: MakeClient, server: FakeServer
) -> None:
    seed_accounts(server, 30)
    client = make_client(pull_limit=10)
    third_request = threading.Event()
    count = {"pulls": 0}

    def hook(path: str) -> None:
        if path == "/sync/pull":
            count["pulls"] += 1
            if count["pulls"] == 3:
                third_request.set()

    server.on_request = hook
    cursors: list[str | None] = []
    overlapped: list[bool] = []

    def progress(received: int, total: int | None) -> None:
        # runs on the applying thread after each page's commit
        cursors.append(stored_cursor(client))
        if received == 20:
            # the first page is fetched inline; after it, a strictly sequential pull would
            # only ask for page 3 after this returns
            overlapped.append(third_request.wait(timeout=5))

    report = client.sync(progress=progress)

    assert overlapped == [True]
    assert report.pages == 3 and report.received == 30 and client.count("account") == 30
    requests = pulls(server)
    assert [r.cursor for r in requests] == [None, *cursors[:-1]]  # each page asked with the last
    assert cursors[-1] == "c:30"
    assert not pull_threads()


def test_failed_fetch_of_the_next_page_leaves_the_applied_page_with_its_cursor(
    make_client: MakeClient, server: FakeServer, sleeps: list[float]
) -> None:
    seed_accounts(server, 25)
    client = make_client(pull_limit=10)
    count = {"pulls": 0}

    def fail_second_page(path: str) -> None:
        if path == "/sync/pull":
            count["pulls"] += 1
            if count["pulls"] == 2:
                server.fail("/sync/pull", "500", "drop_request", "500", "500")

    server.on_request = fail_second_page

    with pytest.raises(ServerError):
        client.sync()

    assert len(sleeps) == 3  # retried with backoff in the fetch thread, then surfaced
    assert client.count("account") == 10  # page 1 committed ...
    first_cursor = stored_cursor(client)
    assert first_cursor is not None and first_cursor.startswith("c:10")  # ... with its cursor
    assert client.status().last_error_code == "server_error"
    assert not pull_threads()

    server.on_request = None
    before = len(pulls(server))
    report = client.sync()
    resumed = pulls(server)[before:]
    assert resumed[0].cursor == first_cursor  # resumes after page 1: nothing pulled twice
    assert report.received == 15 and client.count("account") == 25


def test_an_apply_error_stops_the_fetch_thread_and_keeps_earlier_pages(
    make_client: MakeClient, server: FakeServer
) -> None:
    seed_accounts(server, 50)
    client = make_client(pull_limit=10)

    def progress(received: int, total: int | None) -> None:
        if received == 20:
            raise RuntimeError("the app's progress callback broke")

    with pytest.raises(RuntimeError, match="progress callback"):
        client.sync(progress=progress)

    assert client.count("account") == 20
    assert stored_cursor(client).startswith("c:20")  # type: ignore[union-attr]
    assert not pull_threads()
    assert len(pulls(server)) <= 4  # at most two pages beyond the applied ones were asked for
    client.sync()
    assert client.count("account") == 50


def test_pages_ramp_up_to_the_limit(
    make_client: MakeClient, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "FIRST_PULL_PAGE", 3)
    seed_accounts(server, 40)
    client = make_client(pull_limit=10)

    report = client.sync()

    assert [r.limit for r in pulls(server)] == [3, 6, 10, 10, 10, 10]
    assert report.received == 40 and client.count("account") == 40


def test_default_limit_is_the_server_maximum_and_shrinks_when_refused(
    make_client: MakeClient, server: FakeServer
) -> None:
    assert OutpostClient.__init__.__kwdefaults__["pull_limit"] == 5000  # type: ignore[index]
    seed_accounts(server, 700)
    server.max_limit = sync.FIRST_PULL_PAGE // 4
    client = make_client()

    report = client.sync()

    first = sync.FIRST_PULL_PAGE
    accepted = first // 4
    limits = [r.limit for r in pulls(server)]
    assert limits[:3] == [first, first // 2, accepted]  # refused twice (422 on limit)
    assert set(limits[3:]) == {accepted}
    assert report.received == 700 and client.count("account") == 700
    assert client.pull_limit == accepted  # remembered: the next sync asks for an accepted size
    seed_accounts(server, 1)
    client.sync()
    assert pulls(server)[-1].limit == accepted


def test_a_field_indexed_while_a_page_is_in_flight_is_filled_for_that_page(
    make_client: MakeClient, server: FakeServer
) -> None:
    seed_accounts(server, 30)
    client = make_client(pull_limit=10)

    def progress(received: int, total: int | None) -> None:
        if received == 10:  # page 2 is already requested (and maybe laid out) by now
            client.store.add_index("name")

    client.sync(progress=progress)

    with client.store.reading() as conn:
        unfilled = conn.execute(
            "SELECT count(*) FROM records WHERE entity = 'account' AND f_name IS NULL"
        ).fetchone()[0]
    assert unfilled == 0
    assert [r["name"] for r in client.query("account", {"name": "a25"})] == ["a25"]
