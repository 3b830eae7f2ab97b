"""HTTP calls to the server: encoding (JSON or MessagePack), retries with backoff, typed errors."""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import msgspec

from client_sdk.errors import NetworkError, OutpostError, ServerError, error_from_response
from protocol.errors import ErrorBody
from protocol.sync import MSGPACK

T = TypeVar("T")
JSON = "application/json"


def _accepted_encodings() -> str:
    """The response encodings httpx can decode here (it decodes ``br`` when brotli is
    installed, which the package requires)."""
    if importlib.util.find_spec("brotli") is None:  # pragma: no cover - a stripped install
        return "gzip"
    return "br, gzip"


ACCEPT_ENCODING = _accepted_encodings()

_error_json = msgspec.json.Decoder(ErrorBody)
_error_msgpack = msgspec.msgpack.Decoder(ErrorBody)
_json_encode = msgspec.json.Encoder().encode
_msgpack_encode = msgspec.msgpack.Encoder().encode


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Bounded exponential backoff with jitter, for network errors, 5xx and 429."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): half fixed, half
        random, so many devices coming back online at once spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return float(ceiling / 2 + rng.random() * ceiling / 2)

    def hinted(self, retry_after: float, attempt: int, rng: random.Random) -> float:
        """Seconds to wait when the server said ``Retry-After`` (a 503 ``overloaded``, a 429):
        at least the hint, plus up to half of it (or of this attempt's backoff, when larger) at
        random, so the devices one busy moment turned away do not all come back in the same
        instant; never more than ``max_delay``."""
        spread = max(retry_after, min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)))
        return float(min(self.max_delay, max(0.0, retry_after) + rng.random() * spread / 2))


class Transport:
    """Posts protocol messages to the server over one ``httpx.Client``."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        msgpack: bool = False,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.msgpack = msgpack
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.token: str | None = None

    def headers(
        self, auth: bool, packed: bool, content_type: str | None = None
    ) -> dict[str, str]:
        """Content negotiation and the bearer token (``content_type``: a body that is a file)."""
        kind = MSGPACK if packed else JSON
        headers = {
            "Content-Type": content_type or kind,
            "Accept": kind,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def post(
        self, path: str, body: Any, *, auth: bool = True, negotiate: bool = True
    ) -> httpx.Response:
        """POST with retries; returns a 2xx response or raises a typed ``OutpostError``.

        ``negotiate=False`` forces JSON (MessagePack is spoken by the sync endpoints only).
        """
        packed = self.msgpack and negotiate
        content = _msgpack_encode(body) if packed else _json_encode(body)
        return self.send("POST", path, content=content, auth=auth, packed=packed)

    def send(
        self, method: str, path: str, *, content: bytes | None = None, auth: bool = True,
        params: dict[str, Any] | None = None, packed: bool = False,
        content_type: str | None = None,
    ) -> httpx.Response:
        """One request with bounded retries on network errors, 5xx and 429."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(
                    method,
                    path,
                    content=content,
                    headers=self.headers(auth, packed, content_type),
                    params=params,
                )
            except httpx.TransportError as exc:
                if attempt >= self.retry.attempts:
                    raise NetworkError(str(exc) or type(exc).__name__, code="network") from exc
                self.sleep(self.retry.delay(attempt, self.rng))
                continue
            status = response.status_code
            if status < 400:
                return response
            if (status >= 500 or status == 429) and attempt < self.retry.attempts:
                hint = self._retry_after(response)
                if hint is None:
                    self.sleep(self.retry.delay(attempt, self.rng))
                else:
                    self.sleep(self.retry.hinted(hint, attempt, self.rng))
                continue
            raise self.error(response)

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        """``Retry-After`` in seconds (the delay form; an HTTP date is not used by Outpost)."""
        value = response.headers.get("retry-after")
        try:
            seconds = None if value is None else float(value)
        except ValueError:
            return None
        return seconds if seconds is not None and seconds == seconds else None  # not NaN

    @staticmethod
    def error(response: httpx.Response) -> OutpostError:
        """The typed exception for an error response."""
        status = response.status_code
        kind = response.headers.get("content-type", "")
        try:
            decoder = _error_msgpack if kind.startswith(MSGPACK) else _error_json
            body = decoder.decode(response.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            text = response.text[:200] or response.reason_phrase
            return error_from_response(status, None, text, None, None)
        return error_from_response(status, body.code, body.message, body.field, body.data)

    @staticmethod
    def decode(
        response: httpx.Response,
        json_decoder: msgspec.json.Decoder[T] | msgspec.msgpack.Decoder[T],
        msgpack_decoder: msgspec.json.Decoder[T] | msgspec.msgpack.Decoder[T],
    ) -> T:
        """Decode a 2xx body by its content type."""
        kind = response.headers.get("content-type", "")
        decoder: Any = msgpack_decoder if kind.startswith(MSGPACK) else json_decoder
        try:
            return decoder.decode(response.content)  # type: ignore[no-any-return]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ServerError(
                f"unreadable response from the server: {exc}", code="bad_response",
                status=response.status_code,
            ) from exc
