"""Expense tests keep uploaded receipts in the test's own directory, with a small size limit."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from server.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return msgspec.structs.replace(
        settings, files_dir=str(tmp_path / "files"), attachment_max_bytes=100_000
    )
