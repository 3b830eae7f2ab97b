"""The ``outpost`` command, run as a real process on a temporary database (both backends)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.cli import COMMANDS, build_parser, main
from server.db import Database, create_engine

CHEAP_KDF = {"OUTPOST_PASSWORD_MEMORY_KIB": "8", "OUTPOST_PASSWORD_TIME_COST": "1"}


async def wipe(url: str) -> None:
    db = Database(create_engine(url))
    async with db.engine.begin() as conn:
        await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        await conn.execute(sa.text("CREATE SCHEMA public"))
    await db.dispose()


@pytest.fixture
def empty_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database's URL, also set for in-process ``main()`` calls.

    The tests are synchronous: ``main()`` runs its own event loop, as from a shell.
    """
    if database_url.startswith("postgresql"):
        asyncio.run(wipe(database_url))  # the session's database is shared: start empty
    monkeypatch.setenv("OUTPOST_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTPOST_PASSWORD_MEMORY_KIB", "8")
    monkeypatch.setenv("OUTPOST_PASSWORD_TIME_COST", "1")
    return database_url


def outpost(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``outpost <args>`` against ``url``; returns the finished process."""
    env = {**os.environ, "OUTPOST_DATABASE_URL": url, **CHEAP_KDF}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


async def counts(url: str) -> dict[str, int]:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            return {
                table: int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar())
                for table in ("users", "territories", "accounts", "contacts", "products",
                              "price_list_entries", "stock_balances")
            }
    finally:
        await db.dispose()


def test_serve_refuses_an_unmigrated_database(empty_url: str, tmp_path: Path) -> None:
    done = outpost(empty_url, tmp_path, "serve", "--port", "8765")

    assert done.returncode == 1
    assert "database is not migrated: run `outpost migrate`" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "argv",
    [["seed-demo", "--accounts", "5"],
     ["create-user", "--email", "a@example.com", "--name", "A", "--role", "rep",
      "--password", "long enough pw"]],
)
def test_other_commands_refuse_an_unmigrated_database(
    empty_url: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    assert "run `outpost migrate`" in capsys.readouterr().err


def test_migrate_create_user_and_seed_twice(
    empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated = outpost(empty_url, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "from empty to" in migrated.stdout and "(head)" in migrated.stdout
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out

    seeded = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "50", "--seed", "3")
    assert seeded.returncode == 0, seeded.stderr
    assert "accounts 50/50" in seeded.stdout
    assert "log in as admin@outpost.example / outpost-demo" in seeded.stdout
    first = asyncio.run(counts(empty_url))
    assert first["accounts"] == 50 and first["users"] == 15 and first["products"] == 200

    reseeded = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "50", "--seed", "3")
    assert reseeded.returncode == 0
    assert "already present" in reseeded.stdout
    assert asyncio.run(counts(empty_url)) == first

    created = outpost(empty_url, tmp_path, "create-user", "--email", "Ana@Example.com",
                      "--name", "Ana", "--role", "rep", "--password", "long enough pw",
                      "--manager-email", "manager1@outpost.example")
    assert created.returncode == 0, created.stderr
    assert "created rep ana@example.com" in created.stdout
    assert asyncio.run(manager_of(empty_url, "ana@example.com")) == "manager1@outpost.example"

    ana = ["--name", "Ana", "--role", "rep", "--password", "long enough pw"]
    assert main(["create-user", "--email", "ana@example.com", *ana]) == 1
    assert "a user with this email exists (email)" in capsys.readouterr().err
    assert main(["create-user", "--email", "b@example.com", *ana,
                 "--manager-email", "nobody@example.com"]) == 1
    assert "no user with email nobody@example.com" in capsys.readouterr().err
    assert main(["create-user", "--email", "c@example.com", "--name", "C", "--role", "rep",
                 "--password", "short"]) == 1
    assert "(password)" in capsys.readouterr().err
    assert asyncio.run(counts(empty_url))["users"] == 16


async def manager_of(url: str, email: str) -> str | None:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            found = await conn.execute(
                sa.text("SELECT m.email FROM users u JOIN users m ON m.id = u.manager_id "
                        "WHERE u.email = :email"),
                {"email": email},
            )
            return found.scalar()
    finally:
        await db.dispose()


def test_an_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTPOST_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")

    assert main(["migrate"]) == 1
    assert "error: cannot use the database" in capsys.readouterr().err


def test_a_bad_setting_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTPOST_PORT", "eighty")

    assert main(["migrate"]) == 2
    assert "bad OUTPOST_* setting" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    names = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert names == ["create-user", "migrate", "seed-demo", "serve"]
    assert len(COMMANDS) == len(names)
    for name in names:
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0
        assert f"usage: outpost {name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [[], ["nope"], ["seed-demo", "--accounts", "0"], ["seed-demo", "--seed", "x"],
     ["create-user", "--email", "a@b.c", "--name", "A", "--role", "king", "--password", "p"]],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: outpost" in capsys.readouterr().err


def test_the_served_app_keeps_its_startup_objects_out_of_the_garbage_collector(
    empty_url: str, tmp_path: Path
) -> None:
    # in a child process: freezing the test process itself would keep every test's garbage
    probe = (
        "import gc; from server.cli import app_from_env; "
        "before = gc.get_freeze_count(); app_from_env(); print(before, gc.get_freeze_count())"
    )
    env = {**os.environ, "OUTPOST_DATABASE_URL": empty_url}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2], env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 10_000  # modules, the app, the registry, the metadata
