"""The engine is generic: nothing in server/sync imports server.sfa."""

from __future__ import annotations

import ast
from pathlib import Path

import server.sync

ENGINE = Path(server.sync.__file__).parent


def test_server_sync_never_imports_server_sfa() -> None:
    offenders = []
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("server.sfa")]
    assert offenders == []
    assert len(list(ENGINE.glob("*.py"))) > 10  # the walk really saw the engine
