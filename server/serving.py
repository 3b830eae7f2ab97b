"""Running the app in production: the secret-key check and the graceful shutdown on SIGTERM.

``outpost serve`` runs uvicorn (``--workers N`` processes); each worker's app is wrapped in
``GracefulShutdown``. On SIGTERM (or SIGINT) a worker:

1. answers every new request ``503 shutting_down`` (``Retry-After: 1``, ``Connection: close``)
   for ``shutdown_drain_seconds``, so clients on kept-alive connections hear it and go to
   another server, while the requests already running carry on;
2. then hands over to uvicorn's own shutdown: the listening socket closes (new connections
   are refused), running requests finish, for at most ``shutdown_timeout_seconds``, then the
   process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import msgspec

from protocol.errors import ErrorBody
from server.http.access_log import AccessLog
from server.http.admission import AdmissionControl
from server.settings import Settings

SHUTTING_DOWN = "shutting_down"
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_BODY = msgspec.json.encode(
    ErrorBody(code=SHUTTING_DOWN, message="the server is shutting down; retry shortly")
)


def serving_app(app: Any, settings: Settings) -> Any:
    """The app as ``outpost serve`` runs it: access log, admission control, graceful shutdown
    (outermost first)."""
    if settings.access_log:
        _log_access_to_stderr()
        app = AccessLog(app, settings.access_log_sample, settings.access_log_slow_ms)
    app = AdmissionControl(app, settings.max_concurrent_requests,
                           settings.overload_retry_after_seconds)
    return GracefulShutdown(app, settings.shutdown_drain_seconds)


def _log_access_to_stderr() -> None:
    logger = logging.getLogger("outpost.access")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s access %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class InsecureSecret(Exception):
    """The server would sign tokens with the public default secret key."""


def check_secret(settings: Settings) -> None:
    """Refuse the default ``OUTPOST_SECRET_KEY`` unless debugging or explicitly allowed."""
    if settings.insecure_secret and not (settings.debug or settings.allow_insecure_dev_secret):
        raise InsecureSecret(
            "OUTPOST_SECRET_KEY is the public default: set it to a secret of your own (for "
            "example python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), or pass "
            "--insecure-dev-secret (or OUTPOST_DEBUG=true) on a development machine"
        )


class GracefulShutdown:
    """ASGI wrapper: after SIGTERM, 503 for new requests while running ones finish."""

    def __init__(self, app: Any, drain_seconds: float) -> None:
        self.app = app
        self.drain_seconds = drain_seconds
        self.draining = False
        self._hooked = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self._hook_signals()
        elif scope["type"] == "http" and self.draining:
            await self._refuse(send)
            return
        await self.app(scope, receive, send)

    def _hook_signals(self) -> None:
        # uvicorn installs its exit handlers before the lifespan starts; ours runs first and
        # passes the signal on to them after the drain. Signals exist in the main thread only
        # (a test client runs the app in another one: nothing to hook there).
        if self._hooked or threading.current_thread() is not threading.main_thread():
            return
        self._hooked = True
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            signal.signal(sig, self._handler(loop, previous))

    def _handler(self, loop: asyncio.AbstractEventLoop, previous: Any) -> Any:
        def on_signal(sig: int, frame: FrameType | None) -> None:
            if self.draining:  # a second signal: stop draining, shut down now
                previous(sig, frame)
                return
            self.draining = True
            loop.call_soon_threadsafe(loop.call_later, self.drain_seconds, previous, sig, frame)

        return on_signal

    @staticmethod
    async def _refuse(send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_BODY)).encode()),
                    (b"retry-after", b"1"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})
