"""Admission control: at most ``max_concurrent_requests`` requests in a process at once.

Past the limit a request is answered at once with ``503 overloaded`` and ``Retry-After``
rather than queued: under a sync storm a queue only makes every device wait seconds (and time
out, and retry), while a fast refusal keeps the admitted requests' latency bounded and tells
the SDK's backoff when to come back. Health checks are always admitted (an orchestrator must
see the process alive while it sheds load).
"""

from __future__ import annotations

from typing import Any

import msgspec

from protocol.errors import OVERLOADED, ErrorBody

EXEMPT_PREFIX = "/health"
_BODY = msgspec.json.encode(
    ErrorBody(code=OVERLOADED, message="the server is at capacity; retry after a moment")
)


class AdmissionControl:
    """ASGI middleware counting the HTTP requests in flight in this process."""

    def __init__(self, app: Any, limit: int, retry_after: int) -> None:
        self.app, self.limit = app, limit
        self.in_flight = 0
        self.refused = 0
        self._headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_BODY)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit and not scope["path"].startswith(EXEMPT_PREFIX):
            self.refused += 1
            await send({"type": "http.response.start", "status": 503, "headers": self._headers})
            await send({"type": "http.response.body", "body": _BODY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
