"""One client shared by a UI thread that writes and a background thread that syncs."""

from __future__ import annotations

import threading
import uuid

from tests.unit.sdk.conftest import MakeClient
from tests.unit.sdk.fake_server import FakeServer


def test_a_writer_thread_and_a_sync_thread_at_once(
    make_client: MakeClient, server: FakeServer
) -> None:
    for i in range(50):
        server.put("account", {"id": str(uuid.uuid4()), "name": f"server {i}"})
    client = make_client(push_batch=7, pull_limit=9)
    done = threading.Event()
    errors: list[BaseException] = []
    created: list[str] = []

    def write() -> None:
        try:
            for i in range(200):
                rid = client.create("account", {"name": f"local {i}", "n": i})
                created.append(rid)
                client.update("account", rid, {"n": i * 10})
                if i % 3 == 0:
                    client.update("account", created[i // 2], {"touched": i})
                client.query("account", {"n": i * 10})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    def sync() -> None:
        try:
            while not done.is_set():
                client.sync()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=sync)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    client.sync()

    device = str(client.device_id)
    mids = [mid for dev, mid in server.applied if dev == device]
    assert mids == list(range(1, client.status().last_mid + 1))  # each once, in order
    assert client.status().pending == 0
    assert client.count("account") == 250
    for rid in created:
        assert client.get("account", rid) == server.records[("account", rid)]
    assert all(server.records[("account", rid)]["n"] == i * 10 for i, rid in enumerate(created))
