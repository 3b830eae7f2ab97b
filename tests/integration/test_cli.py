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
    done = outpost(empty_url, tmp_path, "serve", "--port", "8765", "--insecure-dev-secret")

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
    assert "a user with this email exists (--email)" in capsys.readouterr().err
    assert main(["create-user", "--email", "b@example.com", *ana,
                 "--manager-email", "nobody@example.com"]) == 1
    assert "--manager-email: no user with email nobody@example.com" in capsys.readouterr().err
    assert main(["create-user", "--email", "c@example.com", "--name", "C", "--role", "rep",
                 "--password", "short"]) == 1
    assert "(--password)" in capsys.readouterr().err
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
    assert names == [
        "age-receivables",
        "close-commissions",
        "create-user",
        "expire-quotes",
        "migrate",
        "plan-visits",
        "prune",
        "scheduler",
        "seed-demo",
        "serve",
        "sweep-files",
    ]
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
    env = {**os.environ, "OUTPOST_DATABASE_URL": empty_url, "OUTPOST_SECRET_KEY": "k" * 32}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2], env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 10_000  # modules, the app, the registry, the metadata


# ---- serve: the secret key -------------------------------------------------------------------


def test_serve_refuses_the_default_secret_key(empty_url: str, tmp_path: Path) -> None:
    refused = outpost(empty_url, tmp_path, "serve", "--port", "8765")
    assert refused.returncode == 1
    assert "OUTPOST_SECRET_KEY is the public default" in refused.stderr
    assert "--insecure-dev-secret" in refused.stderr
    assert "not migrated" not in refused.stderr  # refused before anything else

    # each way past the check reaches the next one (the unmigrated database)
    for extra_env, flags in (({}, ["--insecure-dev-secret"]), ({"OUTPOST_DEBUG": "true"}, []),
                             ({"OUTPOST_SECRET_KEY": "a real secret " * 3}, [])):
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "serve", "--port", "8765", *flags],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "OUTPOST_DATABASE_URL": empty_url, **extra_env},
        )
        assert done.returncode == 1, (extra_env, flags)
        assert "database is not migrated" in done.stderr, (extra_env, flags)


def test_the_uvicorn_factory_refuses_the_default_secret_key(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.cli import app_from_env
    from server.serving import InsecureSecret

    monkeypatch.delenv("OUTPOST_SECRET_KEY", raising=False)
    monkeypatch.delenv("OUTPOST_DEBUG", raising=False)
    with pytest.raises(InsecureSecret):
        app_from_env()


def test_make_run_serves_with_the_insecure_dev_secret_flag() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "outpost serve --insecure-dev-secret" in run


# ---- error text never carries SQL, parameters or hashes ---------------------------------------

LEAKS = ("INSERT", "SELECT", "argon2", "scrypt", "[parameters", "[SQL")


def test_seed_demo_after_a_colliding_create_user_names_the_conflict(
    empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-user", "--email", "rep01@outpost.example", "--name", "Rep", "--role",
                 "rep", "--password", "long enough pw"]) == 0
    capsys.readouterr()

    plain = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "5")
    assert plain.returncode == 1
    assert "already holds 1 user(s) and no demo data" in plain.stderr
    forced = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "5", "--force")

    assert forced.returncode == 1
    assert "a user with email rep01@outpost.example exists" in forced.stderr
    for leak in LEAKS:
        assert leak not in forced.stdout + forced.stderr, leak
    assert "cannot use the database" not in forced.stderr
    assert asyncio.run(counts(empty_url))["users"] == 1  # nothing written


def test_seed_demo_force_adds_the_demo_next_to_other_users(empty_url: str, tmp_path: Path) -> None:
    assert main(["migrate"]) == 0
    assert main(["create-user", "--email", "boss@example.com", "--name", "Boss", "--role",
                 "admin", "--password", "long enough pw"]) == 0
    forced = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "5", "--force")
    assert forced.returncode == 0, forced.stderr
    assert asyncio.run(counts(empty_url))["users"] == 16


def test_a_database_error_is_shown_without_its_statement_or_parameters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.exc import IntegrityError

    import server.cli as cli

    statement = "INSERT INTO users (email, password_hash) VALUES (?, ?)"
    params = {"email": "rep01@outpost.example", "password_hash": "$argon2id$v=19$m=8$secret"}
    orig = Exception("<class 'asyncpg.exceptions.UniqueViolationError'>: duplicate key value "
                     "violates unique constraint \"uq_users_email\"\nDETAIL:  Key (email)="
                     "(rep01@outpost.example) already exists.")

    def failing(_settings: object, _args: object) -> int:
        raise IntegrityError(statement, params, orig)

    monkeypatch.setattr(cli, "run_migrate", failing)  # add_migrate reads it when main() runs

    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "duplicate key value violates unique constraint" in err
    for leak in (*LEAKS, "password_hash", "DETAIL", "VALUES", "<class"):
        assert leak not in err, leak


# ---- seed-demo says what it did not do ---------------------------------------------------------


def test_seed_demo_with_other_parameters_says_what_it_did_not_do(
    empty_url: str, tmp_path: Path
) -> None:
    assert outpost(empty_url, tmp_path, "migrate").returncode == 0
    assert outpost(empty_url, tmp_path, "seed-demo", "--accounts", "5", "--seed", "3"
                   ).returncode == 0
    before = asyncio.run(counts(empty_url))

    again = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "5", "--seed", "3")
    other = outpost(empty_url, tmp_path, "seed-demo", "--accounts", "9", "--seed", "4")

    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert other.returncode == 1
    assert "holds the demo data of --seed 3 --accounts 5" in other.stderr
    assert "--seed 4 --accounts 9 was NOT written" in other.stderr
    assert "demo data created" not in other.stdout
    assert asyncio.run(counts(empty_url)) == before


# ---- create-user: the password without a terminal, errors by flag ----------------------------


def test_create_user_takes_the_password_from_the_environment_or_stdin(
    empty_url: str, tmp_path: Path
) -> None:
    from server.auth.passwords import verify_password

    assert main(["migrate"]) == 0
    base = [sys.executable, "-m", "server.cli", "create-user", "--role", "rep", "--name", "R"]
    env = {**os.environ, "OUTPOST_DATABASE_URL": empty_url, **CHEAP_KDF}

    from_env = subprocess.run(
        [*base, "--email", "env@example.com"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={**env, "OUTPOST_PASSWORD": "password from env"},
        stdin=subprocess.DEVNULL,
    )
    from_stdin = subprocess.run(
        [*base, "--email", "stdin@example.com", "--password-stdin"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120, env=env, input="password on stdin\n",
    )
    neither = subprocess.run(
        [*base, "--email", "none@example.com"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env=env, stdin=subprocess.DEVNULL,
    )

    assert from_env.returncode == 0, from_env.stderr
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert neither.returncode == 1
    assert "OUTPOST_PASSWORD" in neither.stderr and "--password-stdin" in neither.stderr
    hashes = asyncio.run(password_hashes(empty_url))
    assert verify_password("password from env", hashes["env@example.com"])
    assert verify_password("password on stdin", hashes["stdin@example.com"])
    assert "none@example.com" not in hashes


async def password_hashes(url: str) -> dict[str, str]:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT email, password_hash FROM users"))
            return {email: hashed for email, hashed in rows}
    finally:
        await db.dispose()


def test_a_failing_create_user_names_the_field_by_its_flag(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    rep = ["--name", "R", "--role", "rep", "--password", "long enough pw"]
    assert main(["create-user", "--email", "rep@example.com", *rep]) == 0
    capsys.readouterr()

    assert main(["create-user", "--email", "b@example.com", *rep,
                 "--manager-email", "rep@example.com"]) == 1
    under_a_rep = capsys.readouterr().err
    assert main(["create-user", "--email", "c@example.com", *rep,
                 "--timezone", "Mars/Olympus"]) == 1
    bad_zone = capsys.readouterr().err
    assert main(["create-user", "--email", "not an email", *rep]) == 1
    bad_email = capsys.readouterr().err

    assert "--manager-email" in under_a_rep and "manager_id" not in under_a_rep
    assert "(--timezone)" in bad_zone
    assert "(--email)" in bad_email


# ---- prune ---------------------------------------------------------------------------------


async def old_and_new_sync_rows(url: str) -> None:
    import datetime as dt
    import uuid

    from server.db import utcnow
    from server.sync.models import sync_log, sync_receipts

    db = Database(create_engine(url))
    now, old = utcnow(), utcnow() - dt.timedelta(days=2)
    try:
        async with db.engine.begin() as conn:
            for number, (op, when) in enumerate(
                [("delete", old), ("delete", old), ("evict", old), ("delete", now),
                 ("upsert", old)], start=1
            ):
                await conn.execute(sa.insert(sync_log).values(
                    txid=number, entity="account", record_id=uuid.uuid4(), scope_key="t:x",
                    op=op, version=1, payload=None, created_at=when,
                ))
            device = uuid.uuid4()
            for mid, when in ((1, old), (2, old), (3, now)):  # one push each
                await conn.execute(sa.insert(sync_receipts).values(
                    device_id=device, first_mid=mid, last_mid=mid, hashes=b"h" * 32,
                    results=b"[{}]", created_at=when,
                ))
    finally:
        await db.dispose()


async def sync_counts(url: str) -> tuple[int, int]:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            log = (await conn.execute(sa.text("SELECT count(*) FROM sync_log"))).scalar()
            receipts = (await conn.execute(sa.text("SELECT count(*) FROM sync_receipts"))).scalar()
            return int(log or 0), int(receipts or 0)
    finally:
        await db.dispose()


def test_prune_deletes_old_tombstones_and_receipts_with_progress_and_a_summary(
    empty_url: str, tmp_path: Path
) -> None:
    assert outpost(empty_url, tmp_path, "migrate").returncode == 0
    asyncio.run(old_and_new_sync_rows(empty_url))
    env = {**os.environ, "OUTPOST_DATABASE_URL": empty_url,
           "OUTPOST_TOMBSTONE_RETENTION_SECONDS": "86400"}

    done = subprocess.run([sys.executable, "-m", "server.cli", "prune"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "older than 86400 s" in done.stdout
    assert "  change-log tombstones: 3 deleted" in done.stdout
    assert "  receipts: 2 deleted" in done.stdout
    assert "pruned 3 tombstones, 2 receipts" in done.stdout
    assert "sync horizon at 3:" in done.stdout
    assert asyncio.run(sync_counts(empty_url)) == (2, 1)  # the new delete, the old upsert; 1

    again = subprocess.run([sys.executable, "-m", "server.cli", "prune"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "pruned 0 tombstones, 0 receipts" in again.stdout
