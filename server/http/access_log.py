"""The access log: one structured line per request, cheap enough for the sync hot path.

uvicorn's access log formats every request through ``logging`` with colour and client
lookups (about 15 % of a no-op pull's throughput); this one builds one ``key=value`` line from
what the ASGI scope already holds, and under load may log only 1 in ``access_log_sample`` of the
fast successful requests (errors, 4xx/5xx and slow requests are always logged). Lines go to the
``outpost.access`` logger: ``method=POST path=/sync/pull status=200 ms=0.84 bytes=312``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("outpost.access")


class AccessLog:
    """ASGI middleware writing one line per HTTP request to ``outpost.access``."""

    def __init__(self, app: Any, sample: int, slow_ms: float) -> None:
        self.app, self.sample, self.slow_ms = app, max(1, sample), slow_ms
        self._count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, size = 500, 0

        async def sending(message: Any) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            ms = (time.perf_counter() - started) * 1000
            self._count += 1
            if status >= 400 or ms >= self.slow_ms or self._count % self.sample == 0:
                log.info(
                    "method=%s path=%s status=%d ms=%.2f bytes=%d",
                    scope["method"],
                    scope["path"],
                    status,
                    ms,
                    size,
                )
