"""Run the uvicorn server with every SQL statement timed (``sync_bench.py --sql-stats``).

    python -m bench.server_stats STATS_FILE uvicorn-arguments...

On SIGUSR1 the statements timed since the previous signal are appended to ``STATS_FILE`` as one
JSON line, under the label the benchmark wrote to ``STATS_FILE.label``. The time of a statement
runs from the driver call to its result, so on SQLite it includes aiosqlite's hop to its thread.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_stats: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])


def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
            executemany: bool) -> None:
    conn.info.setdefault("bench_started", []).append(time.perf_counter())


def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
           executemany: bool) -> None:
    started = conn.info["bench_started"].pop()
    entry = _stats[" ".join(statement.split())[:160]]
    entry[0] += 1
    entry[1] += time.perf_counter() - started
    entry[2] += len(params) if executemany and isinstance(params, list) else 1


def main() -> None:
    """Install the listeners, the SIGUSR1 dump, and run uvicorn's command line."""
    out = Path(sys.argv[1])

    def dump(signum: int, frame: FrameType | None) -> None:
        label_file = out.with_name(out.name + ".label")
        label = label_file.read_text().strip() if label_file.exists() else "?"
        rows = sorted(_stats.items(), key=lambda item: -item[1][1])
        with out.open("a") as stream:
            stream.write(json.dumps({"label": label, "statements": [
                {"sql": sql, "calls": int(calls), "seconds": seconds, "rows": int(rows_)}
                for sql, (calls, seconds, rows_) in rows
            ]}) + "\n")
        _stats.clear()

    event.listen(Engine, "before_cursor_execute", _before)
    event.listen(Engine, "after_cursor_execute", _after)
    signal.signal(signal.SIGUSR1, dump)
    from uvicorn.main import main as uvicorn_main

    sys.argv = ["uvicorn", *sys.argv[2:]]
    uvicorn_main()


if __name__ == "__main__":
    main()
