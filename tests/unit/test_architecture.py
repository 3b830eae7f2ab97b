"""Imports point one way. Walks the AST of every module and fails on a forbidden import.

The rules (docs/architecture.md explains them):
- ``protocol`` imports only the standard library, msgspec and itself.
- ``rules`` imports only the standard library, msgspec, itself and ``protocol`` (the wire's
  plain data types and enums are fair game for pure rules; nothing else is).
- ``client_sdk`` imports only the standard library, msgspec, httpx, ``protocol``, ``rules`` and
  itself: never ``server``.
- ``server.sync`` (the generic engine) never imports ``server.sfa``; areas register with it.
- services, repositories and models (``service.py``, ``repository.py``, ``models.py``) and
  ``server/errors.py`` never import litestar; area ``rules.py`` import neither litestar nor
  sqlalchemy.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("protocol", "rules", "client_sdk", "server")
STDLIB = frozenset(sys.stdlib_module_names)
NO_WEB_MODULES = frozenset({"service.py", "repository.py", "models.py"})


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. server.sync.writer
    path: Path  # relative to the project root

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def top(name: str) -> str:
    return name.split(".", 1)[0]


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def only(*allowed: str) -> Callable[[str], bool]:
    """Forbid everything but the standard library and the ``allowed`` top-level packages."""
    return lambda imported: top(imported) not in STDLIB and top(imported) not in allowed


def under(*prefixes: str) -> Callable[[str], bool]:
    """Forbid imports of these packages."""
    return lambda imported: any(within(imported, p) for p in prefixes)


# (what the rule says, does it apply to this module, is this import forbidden there)
RULES: list[tuple[str, Callable[[Module], bool], Callable[[str], bool]]] = [
    ("protocol imports only the standard library and msgspec",
     lambda m: within(m.name, "protocol"), only("msgspec", "protocol")),
    ("rules imports only the standard library, msgspec and protocol",
     lambda m: within(m.name, "rules"), only("msgspec", "rules", "protocol")),
    ("client_sdk imports only the standard library, msgspec, httpx, protocol and rules",
     lambda m: within(m.name, "client_sdk"),
     only("msgspec", "httpx", "protocol", "rules", "client_sdk")),
    ("server.sync never imports server.sfa",
     lambda m: within(m.name, "server.sync"), under("server.sfa")),
    ("services, repositories, models and domain errors never import litestar",
     lambda m: within(m.name, "server")
     and (m.path.name in NO_WEB_MODULES or m.name == "server.errors"),
     under("litestar")),
    ("area rules are pure: no litestar, no sqlalchemy",
     lambda m: within(m.name, "server") and m.path.name == "rules.py",
     under("litestar", "sqlalchemy")),
]


def modules() -> Iterator[Module]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield Module(".".join(parts), relative)


def imports_of(module: Module, source: str) -> set[str]:
    """Every module ``source`` imports, as absolute dotted names (``from x import y`` -> x.y)."""
    found: set[str] = set()
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=str(module.path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def violations(module: Module, source: str) -> list[str]:
    imported = imports_of(module, source)
    return [
        f"{module.path}: imports {name} ({rule})"
        for rule, applies, forbidden in RULES
        if applies(module)
        for name in sorted(imported)
        if forbidden(name)
    ]


def test_no_module_imports_across_a_forbidden_boundary() -> None:
    found = [v for m in modules() for v in violations(m, (ROOT / m.path).read_text())]
    assert found == []


def test_every_package_is_scanned() -> None:
    names = {m.name for m in modules()}
    for expected in ("protocol.sync", "rules", "server.sync.writer", "server.sync.registry",
                     "server.app", "server.schema"):
        assert expected in names
    assert any(within(n, "client_sdk") for n in names)


def test_the_checker_catches_every_kind_of_forbidden_import() -> None:
    def check(name: str, path: str, source: str) -> list[str]:
        return violations(Module(name, Path(path)), source)

    assert check("protocol.sync", "protocol/sync.py", "import sqlalchemy")
    assert check("protocol.sync", "protocol/sync.py", "from server.db import Money")
    assert not check("protocol.sync", "protocol/sync.py",
                     "import msgspec, uuid\nfrom . import hlc\nfrom protocol.ids import uuid7")
    assert check("rules.pricing", "rules/pricing.py", "from server.sfa import accounts")
    assert not check("rules.pricing", "rules/pricing.py", "from protocol.sync import Change")
    assert check("client_sdk.store", "client_sdk/store.py", "from server.db import new_id")
    assert check("client_sdk.store", "client_sdk/store.py", "import litestar")
    assert not check("client_sdk.store", "client_sdk/store.py", "import httpx, sqlite3")
    assert check("server.sync.push", "server/sync/push.py", "from server.sfa import accounts")
    assert check("server.sync.push", "server/sync/push.py", "from ..sfa import registration")
    assert check("server.sync", "server/sync/__init__.py", "from ..sfa import registration")
    assert not check("server.sync.push", "server/sync/push.py", "from .registry import EntitySpec")
    assert check("server.sfa.orders.service", "server/sfa/orders/service.py",
                 "from litestar import Request")
    assert check("server.errors", "server/errors.py", "import litestar.exceptions")
    assert check("server.sfa.visits.rules", "server/sfa/visits/rules.py", "import sqlalchemy as sa")
    assert not check("server.sfa.orders.controller", "server/sfa/orders/controller.py",
                     "from litestar import post")
