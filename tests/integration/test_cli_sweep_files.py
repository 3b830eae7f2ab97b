"""``outpost sweep-files``: removes stored files no live row names, keeps the rest."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from server.cli import main
from tests.integration.test_cli import empty_url  # noqa: F401  (the fixture)


def test_sweep_files_removes_old_orphans_only(
    empty_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "store"
    monkeypatch.setenv("OUTPOST_FILES_DIR", str(root))
    assert main(["migrate"]) == 0
    old, fresh = root / "ab" / "ab01", root / ".staging" / "cd02"
    for path in (old, fresh):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"left behind")
    stamp = time.time() - 3 * 3600
    os.utime(old, (stamp, stamp))
    capsys.readouterr()
    assert main(["sweep-files", "--older-than-hours", "2"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 orphaned files")
    assert not old.exists() and fresh.exists()
