"""The CouchDB/PouchDB peer: read its RESULTS.md figures, or re-run it quickly in this sitting."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# what the peer's main table calls each figure -> our name for it
FIGURES = (
    ("b. initial pull replication", "initial"),
    ("c. incremental pull of 100", "change100"),
    ("d. push of 1,000 offline docs", "push1000"),
    ("e′. no-op pull-only", "noop_pull"),
    ("e. no-op two-way sync", "noop_sync"),
)
_SIZE = re.compile(r"(?:load of|replication of|holds) ([\d,]+)")


@dataclass(frozen=True)
class PeerFigure:
    """One row of the peer's main table (times in seconds)."""

    name: str
    docs: int  # N, the size of the database the figure was measured at
    samples: int
    median: float
    low: float
    high: float
    requests: float


def seconds(text: str) -> float:
    """``"5.36 s"`` / ``"73.7 ms"`` (bold or not) in seconds."""
    value, unit = text.replace("*", "").replace(",", "").split()
    return float(value) / (1000 if unit == "ms" else 1)


def parse_results(markdown: str) -> list[PeerFigure]:
    """The figures of section 1 ("main run") of the peer's RESULTS.md."""
    figures: list[PeerFigure] = []
    in_main, docs = False, 0
    for line in markdown.splitlines():
        if line.startswith("## "):
            in_main = line.startswith("## 1.")
            continue
        if not in_main or not line.startswith("| ") or line.startswith("| figure"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        size = _SIZE.search(cells[0])
        if size and cells[0][:2] in ("a.", "b."):
            docs = int(size.group(1).replace(",", ""))
        for prefix, name in FIGURES:
            if cells[0].startswith(prefix):
                figures.append(PeerFigure(name, docs, int(cells[1]), seconds(cells[2]),
                                          seconds(cells[3]), seconds(cells[4]),
                                          float(cells[6].replace(",", ""))))
    return figures


def pick(figures: list[PeerFigure], name: str, docs: int | None = None) -> PeerFigure | None:
    """The figure ``name`` (at ``docs`` if given, else the largest N)."""
    found = [f for f in figures if f.name == name and (docs is None or f.docs == docs)]
    return max(found, key=lambda f: f.docs) if found else None


def run_quick(peer_dir: Path, log: Path, timeout: float = 1200.0) -> list[PeerFigure]:
    """Run the peer's quick pass (10,000 docs, one repetition, Node part only) in a scratch
    directory and return its figures; raises on failure or timeout."""
    scratch = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    env = {**os.environ, "BENCH_SIZES": "10000", "BENCH_REPS": "1", "BENCH_VARIANTS": "0",
           "BENCH_SKIP_PY": "1", "PEER_BENCH_DIR": str(scratch)}
    with open(log, "wb") as out:
        subprocess.run(["bash", str(peer_dir / "run.sh")], env=env, stdout=out,
                       stderr=subprocess.STDOUT, timeout=timeout, check=True,
                       start_new_session=True)
    return parse_results((scratch / "RESULTS.md").read_text())
