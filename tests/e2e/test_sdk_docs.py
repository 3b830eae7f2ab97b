"""The example of docs/sdk.md runs as written against the real server with the demo data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

import client_sdk
from server.seed.demo import seed_demo
from server.settings import Settings
from tests.e2e.conftest import Relay, World

SDK_DOC = Path(__file__).parents[2] / "docs" / "sdk.md"
MAKE_RUN_URL = "http://127.0.0.1:8000"  # where `make run` serves


def doc_example() -> str:
    """The first Python block of docs/sdk.md."""
    found = re.search(r"```python\n(.*?)```", SDK_DOC.read_text(), re.DOTALL)
    assert found is not None, "docs/sdk.md has no python example"
    return found.group(1)


def test_the_sdk_doc_example_runs_as_written(
    world: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world.run(lambda: seed_demo(world.db, settings, world.writer))  # what `make run` seeds
    made: list[client_sdk.OutpostClient] = []
    real = client_sdk.OutpostClient

    def served_in_process(base_url: str, db_path: str, **kwargs: Any) -> client_sdk.OutpostClient:
        # the example's server is `make run`'s; here the same app runs in this process
        assert base_url == MAKE_RUN_URL
        http = httpx.Client(transport=Relay(world.app_client), base_url=base_url)
        client = real(db_path=db_path, http=http, **kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(client_sdk, "OutpostClient", served_in_process)
    monkeypatch.chdir(tmp_path)

    exec(compile(doc_example(), str(SDK_DOC), "exec"), {"__name__": "sdk_doc_example"})  # noqa: S102

    out = capsys.readouterr().out
    assert "sync failed" not in out and "log in again" not in out and "revoked" not in out
    assert "\nchecked_in\n" in out
    assert len(made) == 1
    reopened = real(db_path=made[0].store.path, http=httpx.Client(base_url=MAKE_RUN_URL))
    status = reopened.status()
    reopened.close()
    assert status.pending == 0 and status.last_error is None and status.last_mid == 4
    assert out.endswith("[]\n[]\n")  # no conflicts, no rejected mutations
    assert world.scalar("SELECT count(*) FROM visits WHERE status = 'checked_in'") == 1
    notes = world.scalar("SELECT count(*) FROM accounts WHERE notes LIKE '%met the buyer%'")
    assert notes == 1
