"""A burst of concurrent logins against a real server process: its RSS before, at peak, after.

    .venv/bin/python -m bench.login_burst [--logins 100] [--root DIR]

``--root`` runs another checkout's code (e.g. an older commit unpacked with ``git archive``)
with this interpreter. The server uses its default password cost (argon2id at 19 MiB today);
the login limits are raised for the burst, since all its logins come from one address.
Results are quoted in docs/security.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.server_proc import RssSampler, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
EMAIL, PASSWORD = "admin@outpost.example", "outpost-demo"


async def burst(base_url: str, logins: int) -> collections.Counter[int]:
    """``logins`` logins at once, each on its own connection; their statuses."""
    limits = httpx.Limits(max_connections=logins, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:

        async def one() -> int:
            response = await client.post(
                "/auth/login",
                json={
                    "email": EMAIL,
                    "password": PASSWORD,
                    "device_id": str(uuid.uuid4()),
                },
            )
            return response.status_code

        return collections.Counter(await asyncio.gather(*(one() for _ in range(logins))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--root", type=Path, default=ROOT, help="the code to run (a checkout)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'burst.db'}"
        env = {**os.environ, "OUTPOST_DATABASE_URL": url, "PYTHONPATH": str(args.root)}
        for command in (["migrate"], ["seed-demo", "--accounts", "5"]):
            subprocess.run(
                [sys.executable, "-m", "server.cli", *command],
                cwd=args.root,
                env=env,
                check=True,
                capture_output=True,
            )
        server = ServerProcess(args.root, url, Path(tmp) / "server.log")
        server.env.update(
            {
                "PYTHONPATH": str(args.root),
                "OUTPOST_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(args.logins * 2),
                "OUTPOST_LOGIN_MAX_FAILURES_PER_ADDRESS": str(args.logins * 2),
            }
        )
        with server:
            asyncio.run(burst(server.base_url, 1))  # warm up: first-request allocations
            before = server.rss_mib()
            started = time.monotonic()
            with RssSampler(server.pid) as sampler:
                statuses = asyncio.run(burst(server.base_url, args.logins))
            elapsed = time.monotonic() - started
            time.sleep(2)
            after = server.rss_mib()
        print(f"code: {args.root}")
        print(f"{args.logins} concurrent logins in {elapsed:.1f} s, statuses {dict(statuses)}")
        print(
            f"server RSS: before {before:.0f} MiB, peak {sampler.peak_kib / 1024:.0f} MiB, "
            f"2 s after {after:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
