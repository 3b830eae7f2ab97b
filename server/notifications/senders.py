"""Push senders: the ``PushSender`` protocol, FCM through ``firebase-admin``, and a logger.

``FcmSender`` sends with firebase-admin's synchronous ``messaging.send`` in a small thread
pool of its own: the library's async client binds to the first event loop it runs on, and the
scheduler and the app may run on different loops. firebase-admin's own HTTP retries are
turned off (``own_retries``): they would retry 500/503 up to four times and, for a 429 or 503
with Retry-After, sleep that long inside the sending thread each time. Every failure comes
back at once as an outcome, and the outbox schedules the next attempt (backoff with jitter,
at least Retry-After).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import msgspec

from server.settings import Settings

log = logging.getLogger("outpost.push")


class PushMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One push to one device token."""

    token: str
    title: str = ""
    body: str = ""
    data: dict[str, str] = {}
    collapse_key: str = ""
    silent: bool = False  # data only: wakes the app to sync, shows nothing


class Outcome(enum.StrEnum):
    SENT = "sent"
    UNREGISTERED = "unregistered"  # the token is dead: prune it
    INVALID = "invalid"  # refused for good (INVALID_ARGUMENT, sender mismatch)
    RETRY = "retry"  # transient (5xx, QUOTA_EXCEEDED, network): try again later


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one message."""

    outcome: Outcome
    message_id: str = ""
    retry_after: float | None = None  # seconds, when the service said so
    error: str = ""


class PushSender(Protocol):
    """Delivers pushes; one result per message, in order. Never raises for a send error."""

    async def send(self, messages: list[PushMessage]) -> list[SendResult]: ...

    async def close(self) -> None: ...


class LoggingSender:
    """The default without Firebase credentials: logs each push and calls it sent."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, messages: list[PushMessage]) -> list[SendResult]:
        for message in messages:
            log.info(
                "push (not sent: no FCM credentials) %s %r",
                message.collapse_key or "-",
                message.title or message.data,
            )
        self.sent += len(messages)
        return [SendResult(outcome=Outcome.SENT, message_id="logged") for _ in messages]

    async def close(self) -> None:
        return None


def fcm_message(message: PushMessage) -> Any:
    """The firebase-admin ``Message`` of a push: a notification (or data only when silent),
    the collapse key for Android (``collapse_key``) and iOS (``apns-collapse-id``)."""
    from firebase_admin import messaging

    headers: dict[str, str] = {}
    if message.collapse_key:
        headers["apns-collapse-id"] = message.collapse_key[:64]
    if message.silent:
        headers.update({"apns-push-type": "background", "apns-priority": "5"})
    built = messaging.Message(
        data=dict(message.data) or None,
        notification=None
        if message.silent
        else messaging.Notification(title=message.title, body=message.body),
        android=messaging.AndroidConfig(
            collapse_key=message.collapse_key or None,
            priority="normal" if message.silent else "high",
        ),
        apns=messaging.APNSConfig(
            headers=headers or None,
            payload=messaging.APNSPayload(aps=messaging.Aps(content_available=True))
            if message.silent
            else None,
        ),
    )
    # The device's FCM registration token travels as the v1 API's ``message.token``.
    # firebase-admin 7.7 deprecates the ``token=`` argument (warning) in favour of ``fid``
    # (Firebase installation ids, another kind of address); the attribute is what it encodes.
    built.token = message.token
    return built


def result_of_error(error: Exception) -> SendResult:
    """The outcome of a firebase-admin error (its text is kept short, it names no token)."""
    from firebase_admin import exceptions, messaging

    kind = type(error).__name__
    if isinstance(error, messaging.UnregisteredError):
        return SendResult(outcome=Outcome.UNREGISTERED, error=kind)
    if isinstance(error, messaging.QuotaExceededError):
        return SendResult(
            outcome=Outcome.RETRY, error=kind, retry_after=_retry_after(error.http_response)
        )
    if isinstance(error, exceptions.InvalidArgumentError | messaging.SenderIdMismatchError):
        return SendResult(outcome=Outcome.INVALID, error=kind)
    if isinstance(error, exceptions.FirebaseError):
        return SendResult(
            outcome=Outcome.RETRY, error=kind, retry_after=_retry_after(error.http_response)
        )
    return SendResult(outcome=Outcome.RETRY, error=kind)


def _retry_after(response: Any) -> float | None:
    value = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the outbox's own backoff applies


def point_messaging_at(app: Any, base_url: str) -> None:
    """Send this firebase-admin app's messages to ``base_url`` (an emulator or the tests'
    stand-in) instead of fcm.googleapis.com. firebase-admin 7 has no public option for it: the
    messaging service keeps the URL in ``_fcm_url``."""
    from firebase_admin import messaging

    service = messaging._get_messaging_service(app)
    service._fcm_url = f"{base_url.rstrip('/')}/v1/projects/{app.project_id}/messages:send"


def own_retries(app: Any, base_url: str = "") -> None:
    """Turn off firebase-admin's HTTP retries for this app (the outbox retries instead)."""
    import requests
    from firebase_admin import messaging
    from urllib3.util.retry import Retry

    service = messaging._get_messaging_service(app)
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=32, max_retries=Retry(total=0, raise_on_status=False)
    )
    for prefix in {"https://fcm.googleapis.com", "https://", "http://", base_url.rstrip("/")}:
        if prefix:
            service._client.session.mount(prefix, adapter)


class FcmSender:
    """Firebase Cloud Messaging v1 through ``firebase_admin.messaging.send``."""

    def __init__(self, app: Any, *, concurrency: int = 8) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fcm")

    @classmethod
    def from_settings(cls, settings: Settings) -> FcmSender:
        """Credentials from the service-account file, or anonymous ones for an endpoint
        override (emulator, tests) that needs none; its own named firebase-admin app."""
        import firebase_admin
        from firebase_admin import credentials
        from google.auth.credentials import AnonymousCredentials

        if settings.fcm_credentials_file:
            credential: Any = credentials.Certificate(settings.fcm_credentials_file)
        else:  # firebase-admin takes google-auth credentials as they are
            credential = AnonymousCredentials()  # type: ignore[no-untyped-call]
        options: dict[str, Any] = {"httpTimeout": settings.fcm_timeout_seconds}
        if settings.fcm_project_id:
            options["projectId"] = settings.fcm_project_id
        app = firebase_admin.initialize_app(credential, options, name=f"outpost-{uuid.uuid4()}")
        if settings.fcm_endpoint:
            point_messaging_at(app, settings.fcm_endpoint)
        own_retries(app, settings.fcm_endpoint)
        return cls(app, concurrency=settings.fcm_concurrency)

    def _send_one(self, message: PushMessage) -> SendResult:
        from firebase_admin import messaging

        try:
            name = messaging.send(fcm_message(message), app=self.app)
        except Exception as error:  # every failure is an outcome, never an exception
            return result_of_error(error)
        return SendResult(outcome=Outcome.SENT, message_id=str(name))

    async def send(self, messages: list[PushMessage]) -> list[SendResult]:
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(
                *(loop.run_in_executor(self.pool, self._send_one, message) for message in messages)
            )
        )

    async def close(self) -> None:
        import firebase_admin

        self.pool.shutdown(wait=False)
        # delete_app closes the library's async client with asyncio.run(): not on this loop
        await asyncio.to_thread(firebase_admin.delete_app, self.app)


def sender_from_settings(settings: Settings) -> PushSender:
    """FCM when credentials (or an endpoint override) are configured, else the logger."""
    if settings.fcm_credentials_file or settings.fcm_endpoint:
        return FcmSender.from_settings(settings)
    return LoggingSender()
