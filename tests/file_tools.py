"""Uploads in tests: the files a store holds, and an upload driven by hand (a client leaving)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.settings import Settings


def stored_files(settings: Settings) -> list[Path]:
    """Every file under the store's directory (staged ones too)."""
    root = Path(settings.files_directory)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def asgi_upload(app: Any, headers: dict[str, str], path: str, parts: list[Any]) -> list:
    """Drive the app by hand: the body arrives in ``parts``; ``None`` is the client leaving."""
    sent: list[dict[str, Any]] = []
    queue = list(parts)

    async def receive() -> dict[str, Any]:
        part = queue.pop(0) if queue else None
        if part is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": part, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent
