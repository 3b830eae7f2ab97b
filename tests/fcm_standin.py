"""A local stand-in for FCM's HTTP v1 API (``POST /v1/projects/{id}/messages:send``).

It answers like FCM: ``{"name": "projects/{id}/messages/{n}"}`` on success, and FCM's error
bodies (``google.rpc.Status`` with an ``FcmError`` detail) for ``UNREGISTERED`` (404),
``INVALID_ARGUMENT`` (400), ``QUOTA_EXCEEDED`` (429 with Retry-After) and 5xx. Tests script
the answers per device token and read back every request body exactly as received. It runs
on 127.0.0.1 in a thread of the test process; nothing reaches Google.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

_PATH = re.compile(r"^/v1/projects/([^/]+)/messages:send$")
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class Answer(msgspec.Struct, frozen=True):
    """One scripted answer: the HTTP status, FCM's error code and an optional Retry-After."""

    status: int = 200
    error_code: str = ""
    retry_after: str | None = None


SUCCESS = Answer()
UNREGISTERED = Answer(404, "UNREGISTERED")
INVALID_ARGUMENT = Answer(400, "INVALID_ARGUMENT")
UNAVAILABLE = Answer(502, "UNAVAILABLE")
INTERNAL = Answer(500, "INTERNAL")


def quota_exceeded(retry_after: int) -> Answer:
    """429 QUOTA_EXCEEDED telling the client to wait ``retry_after`` seconds."""
    return Answer(429, "QUOTA_EXCEEDED", str(retry_after))


_RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


class Received(msgspec.Struct, frozen=True):
    """One request as the stand-in received it."""

    project: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int  # what it answered


class FcmStandIn:
    """Start with ``with FcmStandIn() as fcm:``; ``fcm.url`` is the base URL to point at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self.received: list[Received] = []
        self.count = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                match = _PATH.match(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if match is None:
                    self._reply(
                        404,
                        {
                            "error": {
                                "code": 404,
                                "status": "NOT_FOUND",
                                "message": "no such method",
                            }
                        },
                    )
                    return
                body = json.loads(raw)
                token = body.get("message", {}).get("token", "")
                answer = standin.answer_for(token)
                standin.record(
                    Received(
                        project=match.group(1),
                        body=body,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        status=answer.status,
                    )
                )
                if answer.status == 200:
                    with standin.lock:
                        standin.count += 1
                        number = standin.count
                    self._reply(200, {"name": f"projects/{match.group(1)}/messages/{number}"})
                    return
                headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
                self._reply(
                    answer.status,
                    {
                        "error": {
                            "code": answer.status,
                            "message": f"stand-in: {answer.error_code}",
                            "status": _RPC_STATUS.get(answer.status, "UNKNOWN"),
                            "details": [{"@type": _FCM_ERROR, "errorCode": answer.error_code}],
                        }
                    },
                    headers,
                )

            def _reply(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, token: str, *answers: Answer) -> None:
        """Answer the next requests for ``token`` with ``answers``, then with success."""
        with self.lock:
            self.scripts[token].extend(answers)

    def answer_for(self, token: str) -> Answer:
        with self.lock:
            queue = self.scripts.get(token)
            return queue.popleft() if queue else SUCCESS

    def record(self, received: Received) -> None:
        with self.lock:
            self.received.append(received)

    def bodies(self, token: str | None = None) -> list[dict[str, Any]]:
        """Request bodies received (for one token), in order."""
        with self.lock:
            return [
                r.body
                for r in self.received
                if token is None or r.body["message"].get("token") == token
            ]

    def delivered(self) -> list[dict[str, Any]]:
        """Messages answered with success."""
        with self.lock:
            return [r.body["message"] for r in self.received if r.status == 200]

    def __enter__(self) -> FcmStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
