"""Text every backend can store: U+0000 (and lone surrogates) refused at input.

PostgreSQL ``text`` and ``jsonb`` cannot hold U+0000, and a lone surrogate is not UTF-8 at all;
SQLite stores both. Refusing them where input is decoded (REST bodies and query parameters,
sync pull requests and pushed mutations) keeps the backends from diverging and turns what
would be a database error into a 422 naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_MESSAGE = "must not contain U+0000 (NUL) or unpaired surrogate characters"


def has_unstorable(text: str) -> bool:
    """True when ``text`` holds a character the database cannot store."""
    return _UNSTORABLE.search(text) is not None


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The dotted path (``items.0.name``) of the first unstorable string in decoded builtins.

    Keys count as well as values (a key names its own path); None when everything is storable.
    """
    for where, text in _strings(value, path):
        if has_unstorable(text):
            return where or "body"
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield where, key
            yield from _strings(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))
