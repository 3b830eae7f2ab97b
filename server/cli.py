"""The ``outpost`` command line: serve, migrate, create-user, seed-demo, prune.

Each subcommand is one ``add_<name>`` function that declares its arguments and the function
that runs it; ``COMMANDS`` lists them (a ``scheduler`` command is one more entry).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import getpass
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from server.db import Database, create_engine
from server.errors import DomainError
from server.schema import SchemaNotReady, current_revisions, ensure_migrated, upgrade
from server.serving import InsecureSecret, check_secret, serving_app
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

    It refuses the default secret key (``check_secret``) and is wrapped by ``serving_app``:
    the access log, admission control (503 ``overloaded`` past ``max_concurrent_requests``) and
    ``GracefulShutdown`` (503 to new requests once SIGTERM arrives, see server/serving.py).
    """
    from server.app import create_app
    from server.auth.passwords import give_kdf_memory_back

    settings = Settings.from_env()
    check_secret(settings)
    give_kdf_memory_back()
    app = serving_app(create_app(settings), settings)
    gc.collect()
    gc.freeze()
    return app


# --- serve -------------------------------------------------------------------------------


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Refuse the default secret key and an unmigrated database, then serve with uvicorn."""
    import uvicorn

    if args.insecure_dev_secret:
        # the workers build their settings from the environment: they must see it too
        os.environ["OUTPOST_ALLOW_INSECURE_DEV_SECRET"] = "true"
        settings = msgspec.structs.replace(settings, allow_insecure_dev_secret=True)
    try:
        check_secret(settings)
    except InsecureSecret as exc:
        raise CommandFailed(str(exc)) from None
    on_database(settings, ensure_migrated_ok)
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers
    if workers > 1 and args.reload:
        raise CommandFailed("--reload and --workers cannot be combined")
    print(f"Outpost serving {shown_url(settings)} on http://{host}:{port} "
          f"({workers} worker{'s' if workers > 1 else ''})", flush=True)
    if settings.insecure_secret:
        print("warning: signing tokens with the public default OUTPOST_SECRET_KEY "
              "(development only)", flush=True)
    print(f"OpenAPI docs: http://{host}:{port}/schema", flush=True)
    uvicorn.run("server.cli:app_from_env", factory=True, host=host, port=port,
                reload=args.reload, workers=workers if workers > 1 else None, log_level="info",
                timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
                timeout_keep_alive=settings.keepalive_seconds, access_log=False)
    return EXIT_OK


async def ensure_migrated_ok(db: Database) -> int:
    """``ensure_migrated`` as a database job."""
    await ensure_migrated(db)
    return EXIT_OK


def add_serve(commands: Any) -> None:
    parser = commands.add_parser("serve", help="serve the HTTP API (OpenAPI docs at /schema)")
    parser.add_argument("--host", help="address to bind (default: OUTPOST_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: OUTPOST_PORT or 8000)")
    parser.add_argument("--workers", type=positive,
                        help="worker processes (default: OUTPOST_WORKERS or 1)")
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    parser.add_argument("--insecure-dev-secret", action="store_true",
                        help="serve even with the public default OUTPOST_SECRET_KEY "
                             "(development only; `make run` passes it)")
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


def read_password(args: argparse.Namespace) -> str:
    """The new user's password: ``--password``, ``OUTPOST_PASSWORD``, ``--password-stdin``
    (its first line), or typed twice at a terminal."""
    if args.password is not None:
        return str(args.password)
    from_env = os.environ.get("OUTPOST_PASSWORD")
    if from_env:
        return from_env
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CommandFailed("--password-stdin: no password on standard input")
        return line
    if not sys.stdin.isatty():
        raise CommandFailed("no terminal to ask for the password: set OUTPOST_PASSWORD, "
                            "or pipe it in with --password-stdin (or pass --password)")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise CommandFailed("the two passwords differ")
    return password


# Service fields by the flag that sets them, so errors name what the user typed.
CREATE_USER_FLAGS = {"email": "--email", "name": "--name", "role": "--role",
                     "password": "--password", "manager_id": "--manager-email",
                     "timezone": "--timezone"}


def run_create_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create a user (the first admin, typically)."""
    from server.auth.models import Role
    from server.auth.repository import AuthRepository
    from server.sfa.users.rules import normalize_email
    from server.sfa.users.service import create_user

    password = read_password(args)

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        manager_id: uuid.UUID | None = None
        if args.manager_email:
            async with db.transaction() as session:
                manager = await AuthRepository(session).user_by_email(
                    normalize_email(args.manager_email)
                )
            if manager is None:
                raise CommandFailed(f"--manager-email: no user with email {args.manager_email}")
            if manager.role not in (Role.MANAGER, Role.ADMIN):
                raise CommandFailed(f"--manager-email: {manager.email} is a {manager.role}; "
                                    "a manager must be a manager or an admin")
            manager_id = manager.id
        user = await create_user(db, settings, args.email, args.name, args.role, password,
                                 manager_id=manager_id, timezone=args.timezone)
        print(f"created {user.role} {user.email} (id {user.id})")
        return EXIT_OK

    return on_database(settings, work)


def add_create_user(commands: Any) -> None:
    parser = commands.add_parser(
        "create-user", help="create a user (rep, manager or admin)",
        description="Create a user. The password comes from --password, OUTPOST_PASSWORD, "
                    "--password-stdin, or is asked for twice at a terminal.",
    )
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--role", required=True, choices=["rep", "manager", "admin"])
    parser.add_argument("--password", help="the password (visible to other local users: "
                                           "prefer OUTPOST_PASSWORD or --password-stdin)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    parser.add_argument("--manager-email", help="email of the user's manager")
    parser.add_argument("--timezone", default="UTC", help="IANA time zone (default: UTC)")
    parser.set_defaults(run=run_create_user, flags=CREATE_USER_FLAGS)


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
    from server.seed.demo import SeedRefused, seed_demo
    from server.seed.generate import ADMIN_EMAIL, DEMO_PASSWORD
    from server.sync.writer import ChangeWriter

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        print(f"seeding demo data (seed {args.seed}, {args.accounts} accounts) "
              f"into {shown_url(settings)}", flush=True)
        try:
            result = await seed_demo(db, settings, ChangeWriter(build_registry()),
                                     seed=args.seed, accounts=args.accounts,
                                     progress=print_progress, force=args.force)
        except SeedRefused as exc:
            raise CommandFailed(str(exc)) from None
        present = result.present
        if present is None:
            summary = ", ".join(f"{count} {name}" for name, count in result.counts.items())
            print(f"demo data created: {summary}")
            print(f"log in as {ADMIN_EMAIL} / {DEMO_PASSWORD}")
            return EXIT_OK
        if present.seed is None:
            print(f"demo data already present ({ADMIN_EMAIL} exists, its --seed and --accounts "
                  f"not recorded); nothing written")
            return EXIT_OK
        if (present.seed, present.accounts) == (args.seed, args.accounts):
            print(f"demo data already present (--seed {present.seed} --accounts "
                  f"{present.accounts}); nothing to do")
            return EXIT_OK
        raise CommandFailed(
            f"the database already holds the demo data of --seed {present.seed} --accounts "
            f"{present.accounts}: --seed {args.seed} --accounts {args.accounts} was NOT "
            "written (nothing changed); demo data is seeded once, into an empty database"
        )

    return on_database(settings, work)


def add_seed_demo(commands: Any) -> None:
    parser = commands.add_parser(
        "seed-demo", help="insert deterministic demo data (idempotent)",
        description="Insert the demo company into an empty database; a second run with the "
                    "same --seed and --accounts does nothing, other ones are refused.",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--accounts", type=positive, default=2000,
                        help="number of customer accounts (default: 2000)")
    parser.add_argument("--force", action="store_true",
                        help="add the demo data to a database that already has users (but no "
                             "demo data, and none of the demo users' emails)")
    parser.set_defaults(run=run_seed_demo)


# --- prune -------------------------------------------------------------------------------


def run_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Delete tombstones, receipts and login failures older than their retention."""
    from server.auth.repository import AuthRepository
    from server.db import utcnow
    from server.sync.retention import prune_log

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        now = utcnow()
        retention = settings.tombstone_retention_seconds
        cutoff = now - dt.timedelta(seconds=retention)
        print(f"pruning {shown_url(settings)}: tombstones and receipts older than "
              f"{retention} s (before {cutoff.isoformat(timespec='seconds')})", flush=True)
        report = await prune_log(db, settings, now, progress=print_pruned)
        window = dt.timedelta(seconds=settings.login_failure_window_seconds)
        async with db.transaction() as session:
            failures = await AuthRepository(session).prune_login_failures(now - window)
        print_pruned("expired login failures", failures)
        print(f"pruned {report.log_rows} tombstones, {report.receipts} receipts, "
              f"{report.records} deleted records and {failures} login failures; "
              f"sync horizon at {report.horizon}")
        return EXIT_OK

    return on_database(settings, work)


def print_pruned(what: str, count: int) -> None:
    """One progress line per pruning step: ``  receipts: 120 deleted``."""
    print(f"  {what}: {count} deleted", flush=True)


def add_prune(commands: Any) -> None:
    parser = commands.add_parser(
        "prune", help="delete tombstones and receipts older than the retention",
        description="Delete change-log tombstones, push receipts and deleted records older "
                    "than OUTPOST_TOMBSTONE_RETENTION_SECONDS (devices whose cursor is older "
                    "re-sync from the start), and expired login failures.",
    )
    parser.set_defaults(run=run_prune)


# --- plan-visits -------------------------------------------------------------------------


def run_plan_visits(settings: Settings, args: argparse.Namespace) -> int:
    """Plan the coming period's visits of every rep's accounts by their value tier's rhythm."""
    from server.app import build_writer
    from server.sfa.visits.planning import VisitPlanner

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        planner = VisitPlanner(db, build_writer(settings), settings)
        report = await planner.plan(args.days, args.start)
        print(f"planned {report.planned} visits for {report.accounts} accounts of "
              f"{report.reps} reps over {args.days} days")
        return EXIT_OK

    return on_database(settings, work)


def add_plan_visits(commands: Any) -> None:
    parser = commands.add_parser(
        "plan-visits", help="plan visits by value tier for the coming days",
        description="Plan visits for each active rep's accounts over the coming days, every "
                    "OUTPOST_VISIT_RHYTHM_<TIER>_DAYS days after the last counted visit or "
                    "plan (docs/visits.md). Running it again plans nothing twice.",
    )
    parser.add_argument("--days", type=positive, default=14,
                        help="length of the period to plan (default: 14)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=None,
                        help="first day, YYYY-MM-DD (default: each rep's today)")
    parser.set_defaults(run=run_plan_visits)


# --- age-receivables ---------------------------------------------------------------------


def run_age_receivables(settings: Settings, args: argparse.Namespace) -> int:
    """Age every owing account's receivables as of now (or --date) and derive its arrears."""
    from server.app import build_writer
    from server.sfa.collections.receivables import age_receivables

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        now = dt.datetime.now(dt.UTC)
        if args.date is not None:
            now = dt.datetime.combine(args.date, dt.time(12), tzinfo=dt.UTC)
        report = await age_receivables(
            db,
            build_writer(settings),
            now,
            progress=lambda done: print(f"  {done} accounts aged", flush=True),
        )
        print(f"aged receivables of {report.accounts} accounts as of {report.as_of}: "
              f"{report.changed} changed, {report.in_arrears} in arrears")
        return EXIT_OK

    return on_database(settings, work)


def add_age_receivables(commands: Any) -> None:
    parser = commands.add_parser(
        "age-receivables", help="age open instalments and derive each account's arrears",
        description="Re-derive every owing account's receivables by ageing bucket and its "
                    "arrears from its overdue instalments (docs/finance.md); run it daily. "
                    "Running it twice on one day changes nothing the second time.",
    )
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="the day to age as of, YYYY-MM-DD (default: today, UTC)")
    parser.set_defaults(run=run_age_receivables)


# --- sweep-files -------------------------------------------------------------------------


def run_sweep_files(settings: Settings, args: argparse.Namespace) -> int:
    """Remove stored files no live attachment or receipt names (orphans)."""
    from server.file_store import LocalFileStore
    from server.sfa.contracts.models import ContractAttachment
    from server.sfa.expenses.models import ExpenseReceipt
    from server.uploads import sweep_orphans

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        tables = [ContractAttachment.__table__, ExpenseReceipt.__table__]
        removed = await sweep_orphans(
            db, LocalFileStore(settings.files_directory), tables,  # type: ignore[arg-type]
            older_than=dt.timedelta(hours=args.older_than_hours),
        )
        print(f"removed {removed} orphaned files from {settings.files_directory}")
        return EXIT_OK

    return on_database(settings, work)


def add_sweep_files(commands: Any) -> None:
    parser = commands.add_parser(
        "sweep-files", help="remove stored files that no attachment or receipt names",
        description="Remove files of the file store (OUTPOST_FILES_DIR) that no live contract "
                    "attachment or expense receipt names: left by a process that died between "
                    "a deletion's commit and the file's removal, or in the middle of an upload "
                    "(docs/finance.md). Files younger than --older-than-hours are kept (an "
                    "upload may still be committing its row).",
    )
    parser.add_argument("--older-than-hours", type=float, default=1.0,
                        help="keep files written more recently than this (default: 1)")
    parser.set_defaults(run=run_sweep_files)


# --- expire-quotes -----------------------------------------------------------------------


def run_expire_quotes(settings: Settings, args: argparse.Namespace) -> int:
    """Move quotes past their validity to ``expired`` (idempotent)."""
    from server.app import build_writer
    from server.db import utcnow
    from server.sfa.quotes.expiry import QuoteExpiryService

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        service = QuoteExpiryService(db, build_writer(settings), settings)
        print(f"expiring quotes past their validity in {shown_url(settings)} "
              f"(company time zone {settings.company_timezone})", flush=True)
        count = await service.expire_due(
            utcnow(), batch_size=args.batch_size,
            progress=lambda done: print(f"  quotes expired: {done}", flush=True),
        )
        print(f"expired {count} quotes" if count else "no quote to expire")
        return EXIT_OK

    return on_database(settings, work)


def add_expire_quotes(commands: Any) -> None:
    parser = commands.add_parser(
        "expire-quotes", help="move quotes past their validity to expired",
        description="Set every draft, pending or sent quote whose valid_until day has passed "
                    "(in OUTPOST_COMPANY_TIMEZONE) to expired, in batches, so devices receive "
                    "the status. Running it again expires nothing twice.",
    )
    parser.add_argument("--batch-size", type=positive, default=500,
                        help="quotes per transaction (default: 500)")
    parser.set_defaults(run=run_expire_quotes)


# --- close-commissions -------------------------------------------------------------------


def run_close_commissions(settings: Settings, args: argparse.Namespace) -> int:
    """Compute and close the commission statements of an ended period (idempotent)."""
    from server.db import utcnow
    from server.sfa.commissions.statement_service import close_period

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        print(f"closing the commission period {args.period} in {shown_url(settings)} "
              f"(company time zone {settings.company_timezone})", flush=True)
        await close_period(
            db, settings, args.period, utcnow(), lambda line: print(f"  {line}", flush=True)
        )
        return EXIT_OK

    return on_database(settings, work)


def add_close_commissions(commands: Any) -> None:
    parser = commands.add_parser(
        "close-commissions", help="compute and close the commission statements of a period",
        description="Compute every rep's statement of an ended period from the central "
                    "records and close it: a closed statement never changes again and waits "
                    "for its manager's approval (docs/commissions.md). Running it again "
                    "closes nothing twice.",
    )
    parser.add_argument("--period", required=True,
                        help="the period: 2026-11 (or 2026-Q4 with quarterly periods)")
    parser.set_defaults(run=run_close_commissions, flags={"period": "--period"})


# --- scheduler ---------------------------------------------------------------------------


def run_scheduler(settings: Settings, args: argparse.Namespace) -> int:
    """Run the scheduler's jobs (reminders, the outbox, pruning, visit plans) until stopped."""
    from server.notifications.process import serve_scheduler

    async def work(db: Database) -> int:
        await ensure_migrated(db)
        await serve_scheduler(db, settings, lambda line: print(line, flush=True))
        return EXIT_OK

    return on_database(settings, work)


def add_scheduler(commands: Any) -> None:
    parser = commands.add_parser(
        "scheduler", help="run the scheduler alone (reminders, push outbox, pruning, plans)",
        description="Run the periodic jobs (docs/notifications.md) until SIGTERM or SIGINT. "
                    "Any number of scheduler processes may run against one database: they "
                    "claim their work there, so nothing is sent or run twice.",
    )
    parser.set_defaults(run=run_scheduler)


# --- entry point -------------------------------------------------------------------------

COMMANDS: tuple[Callable[[Any], None], ...] = (add_serve, add_migrate, add_create_user,
                                              add_seed_demo, add_prune, add_plan_visits,
                                              add_age_receivables, add_expire_quotes,
                                              add_sweep_files, add_close_commissions,
                                              add_scheduler)


def domain_message(exc: DomainError, flags: dict[str, str]) -> str:
    """A service error in the command's terms: its field named by the flag that set it."""
    if not exc.field:
        return exc.message
    flag = flags.get(exc.field, exc.field)
    message = exc.message
    if "_" in exc.field:  # an identifier such as manager_id, not a word such as "email"
        message = message.replace(exc.field, flag)
    return f"{message} ({flag})"


def database_reason(exc: DBAPIError) -> str:
    """What the database said, without the statement or its parameters (they can carry
    password hashes): the driver's first line, its class-name prefix removed."""
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
    return re.sub(r"^<class '[^']*'>:\s*", "", first)


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
        print(f"error: {domain_message(exc, getattr(args, 'flags', {}))}", file=sys.stderr)
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
    except IntegrityError as exc:
        print(f"error: the database refused the change ({database_reason(exc)}); nothing "
              "was written", file=sys.stderr)
    except DBAPIError as exc:
        print(f"error: cannot use the database {shown_url(settings)}: {database_reason(exc)}",
              file=sys.stderr)
    except SQLAlchemyError as exc:
        # its text may quote the statement and its parameters: the kind of error only
        print(f"error: database error ({type(exc).__name__}) on {shown_url(settings)}",
              file=sys.stderr)
    except OSError as exc:
        print(f"error: cannot use the database {shown_url(settings)}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
