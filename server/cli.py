"""The ``outpost`` command line: serve, migrate, create-user, seed-demo.

Each subcommand is one ``add_<name>`` function that declares its arguments and the function
that runs it; ``COMMANDS`` lists them (a ``scheduler`` command is one more entry).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from server.db import Database, create_engine
from server.errors import DomainError
from server.schema import SchemaNotReady, current_revisions, ensure_migrated, upgrade
from server.settings import Settings

Runner = Callable[[Settings, argparse.Namespace], int]
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CommandFailed(Exception):
    """A command could not do its work; the message is shown as ``error: ...``."""


def shown_url(settings: Settings) -> str:
    """The database URL with any password hidden."""
    return make_url(settings.database_url).render_as_string(hide_password=True)


def on_database(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Run ``work`` on a database opened from ``settings`` (closed afterwards)."""

    async def run() -> int:
        db = Database(
            create_engine(
                settings.database_url,
                idle_in_transaction_timeout_seconds=settings.idle_in_transaction_timeout_seconds,
            )
        )
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def app_from_env() -> Any:
    """The ASGI app for uvicorn (``factory=True``), configured from the environment.

    Everything built by then (modules, the app, the registry, table metadata) lives as long as
    the process: it is moved out of the cyclic garbage collector's reach (``gc.freeze``), so a
    full collection during a request walks that request's objects only. Without it, a full
    collection in the middle of a 1,000-mutation push took ~90 ms here.
    """
    from server.app import create_app

    app = create_app(Settings.from_env())
    gc.collect()
    gc.freeze()
    return app


# --- serve -------------------------------------------------------------------------------


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Refuse an unmigrated database, then serve the API with uvicorn."""
    import uvicorn

    on_database(settings, ensure_migrated_ok)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Outpost serving {shown_url(settings)} on http://{host}:{port}", flush=True)
    print(f"OpenAPI docs: http://{host}:{port}/schema", flush=True)
    uvicorn.run("server.cli:app_from_env", factory=True, host=host, port=port,
                reload=args.reload, log_level="info")
    return EXIT_OK


async def ensure_migrated_ok(db: Database) -> int:
    """``ensure_migrated`` as a database job."""
    await ensure_migrated(db)
    return EXIT_OK


def add_serve(commands: Any) -> None:
    parser = commands.add_parser("serve", help="serve the HTTP API (OpenAPI docs at /schema)")
    parser.add_argument("--host", help="address to bind (default: OUTPOST_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: OUTPOST_PORT or 8000)")
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    parser.set_defaults(run=run_serve)


# --- migrate -----------------------------------------------------------------------------


def run_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Upgrade the database to the latest revision."""

    async def work(db: Database) -> int:
        before = await current_revisions(db)
        after = await upgrade(db)
        if before == after:
            print(f"database {shown_url(settings)} is up to date at {', '.join(after)} (head)")
        else:
            print(f"migrated {shown_url(settings)} from {', '.join(before) or 'empty'} "
                  f"to {', '.join(after)} (head)")
        return EXIT_OK

    return on_database(settings, work)


def add_migrate(commands: Any) -> None:
    parser = commands.add_parser("migrate", help="upgrade the database schema to the latest")
    parser.set_defaults(run=run_migrate)


# --- create-user -------------------------------------------------------------------------


def ask_password() -> str:
    """Prompt twice for a password (only when a terminal is attached)."""
    if not sys.stdin.isatty():
        raise CommandFailed("--password is required when not run from a terminal")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise CommandFailed("the two passwords differ")
    return password


def run_create_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create a user (the first admin, typically)."""
    from server.auth.repository import AuthRepository
    from server.sfa.users.rules import normalize_email
    from server.sfa.users.service import create_user

    password = args.password if args.password is not None else ask_password()

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        manager_id: uuid.UUID | None = None
        if args.manager_email:
            async with db.transaction() as session:
                manager = await AuthRepository(session).user_by_email(
                    normalize_email(args.manager_email)
                )
            if manager is None:
                raise CommandFailed(f"no user with email {args.manager_email}")
            manager_id = manager.id
        user = await create_user(db, settings, args.email, args.name, args.role, password,
                                 manager_id=manager_id, timezone=args.timezone)
        print(f"created {user.role} {user.email} (id {user.id})")
        return EXIT_OK

    return on_database(settings, work)


def add_create_user(commands: Any) -> None:
    parser = commands.add_parser("create-user", help="create a user (rep, manager or admin)")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--role", required=True, choices=["rep", "manager", "admin"])
    parser.add_argument("--password", help="the password (prompted for when omitted)")
    parser.add_argument("--manager-email", help="email of the user's manager")
    parser.add_argument("--timezone", default="UTC", help="IANA time zone (default: UTC)")
    parser.set_defaults(run=run_create_user)


# --- seed-demo ---------------------------------------------------------------------------


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def print_progress(what: str, done: int, total: int) -> None:
    """One progress line per batch: ``accounts 500/2000``."""
    print(f"  {what} {done}/{total}", flush=True)


def run_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Insert the demo company (idempotent: a second run changes nothing)."""
    from server.app import build_registry
    from server.seed.demo import seed_demo
    from server.seed.generate import ADMIN_EMAIL, DEMO_PASSWORD
    from server.sync.writer import ChangeWriter

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        print(f"seeding demo data (seed {args.seed}, {args.accounts} accounts) "
              f"into {shown_url(settings)}", flush=True)
        result = await seed_demo(db, settings, ChangeWriter(build_registry()), seed=args.seed,
                                 accounts=args.accounts, progress=print_progress)
        if not result.created:
            print(f"demo data already present ({ADMIN_EMAIL} exists); nothing to do")
        else:
            summary = ", ".join(f"{count} {name}" for name, count in result.counts.items())
            print(f"demo data created: {summary}")
            print(f"log in as {ADMIN_EMAIL} / {DEMO_PASSWORD}")
        return EXIT_OK

    return on_database(settings, work)


def add_seed_demo(commands: Any) -> None:
    parser = commands.add_parser("seed-demo", help="insert deterministic demo data (idempotent)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--accounts", type=positive, default=2000,
                        help="number of customer accounts (default: 2000)")
    parser.set_defaults(run=run_seed_demo)


# --- entry point -------------------------------------------------------------------------

COMMANDS: tuple[Callable[[Any], None], ...] = (add_serve, add_migrate, add_create_user,
                                              add_seed_demo)


def build_parser() -> argparse.ArgumentParser:
    """The ``outpost`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="outpost",
        description="Outpost, the offline-first sales-force automation backend. "
                    "Configuration comes from OUTPOST_* environment variables "
                    "(OUTPOST_DATABASE_URL: the database; default: outpost.db here).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, and turn failures into messages and codes."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except msgspec.ValidationError as exc:
        print(f"error: bad OUTPOST_* setting: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runner: Runner = args.run
    try:
        return runner(settings, args)
    except SchemaNotReady as exc:
        print(f"error: {exc}", file=sys.stderr)
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"error: {exc.message}{where}", file=sys.stderr)
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (DBAPIError, OSError) as exc:
        print(f"error: cannot use the database {shown_url(settings)}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
