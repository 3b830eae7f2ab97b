"""Generate revisions from the models: ``python -m migrations.autogen [--initial | -m MESSAGE]``.

``--initial`` deletes every revision and writes one initial revision from the current models
(before the first release there is exactly one). ``-m`` adds a revision on top of head. Both
compare the models with a scratch SQLite database, so no server is needed; the revisions they
write run on SQLite and PostgreSQL alike (batch mode).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from server import schema
from server.db import Database, create_engine


def remove_revisions() -> list[Path]:
    """Delete every revision file (the initial one is about to be rewritten)."""
    removed = sorted((schema.MIGRATIONS_DIR / "versions").glob("*.py"))
    for path in removed:
        path.unlink()
    return removed


async def generate(message: str, *, initial: bool) -> None:
    """Autogenerate one revision against a scratch database at the current head."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'autogen.db'}"))
        try:
            if initial:
                for path in remove_revisions():
                    print(f"removed {path.name}")
            else:
                await schema.upgrade(db)

            def revise(config: Config) -> None:
                command.revision(config, message=message, autogenerate=True)

            await schema.run_command(db, revise)
        finally:
            await db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m migrations.autogen", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--initial", action="store_true", help="regenerate the initial revision")
    group.add_argument("-m", "--message", help="add a revision with this message")
    args = parser.parse_args(argv)
    message = "initial schema" if args.initial else args.message
    asyncio.run(generate(message, initial=args.initial))
    return 0


if __name__ == "__main__":
    sys.exit(main())
