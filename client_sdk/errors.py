"""Typed exceptions of the SDK, mapped from the server's stable error codes."""

from __future__ import annotations

from typing import Any

from protocol import errors as codes


class OutpostError(Exception):
    """Base of every SDK error: the server's ``{code, message, field?, data?}`` and the status."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        field: str | None = None,
        data: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.data = data or {}
        self.status = status

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code}: {self.message}{where}"


class AuthError(OutpostError):
    """Not logged in, bad credentials, or a token that expired or was revoked: log in again."""


class AccessRevoked(AuthError):
    """The user or this device was deactivated by an administrator.

    Raised by ``sync()`` after the local copy was wiped: ``discarded`` is how many unsent
    mutations were dropped with it (they can never be pushed).
    """

    discarded: int = 0


class ForbiddenError(OutpostError):
    """The user's role may not do this."""


class UpgradeRequired(OutpostError):
    """The server no longer speaks this client's schema version; ``data['supported']`` lists it."""


class RequestError(OutpostError):
    """The server refused the request as malformed or invalid (a 4xx that retrying cannot fix)."""


class NotFoundError(RequestError):
    """The server does not know the addressed resource."""


class ConflictError(RequestError):
    """The server refused the request because of the state of something (HTTP 409)."""


class ServerError(OutpostError):
    """The server failed (5xx) or kept asking to slow down (429) after every retry."""


class NetworkError(OutpostError):
    """The server could not be reached (after every retry)."""


class SyncError(OutpostError):
    """The sync protocol cannot continue without help."""


class MutationGapError(SyncError):
    """The server expects mutation numbers this device no longer holds."""


class InvalidCursor(SyncError):
    """The server did not accept the stored pull cursor."""


class LocalValidationError(OutpostError, ValueError):
    """A local write or query the SDK refused at once, before anything was stored or queued.

    Checked against the entity definitions the server uses (``protocol.entities``) and the
    shared domain rules (``rules.records``): ``code`` is the one the server would have answered
    at sync time, ``field`` the offending field.
    """


class UnknownEntity(LocalValidationError):
    """No syncable entity has this name (``unknown_entity``)."""


class UnknownField(LocalValidationError):
    """The entity's record has no such field (``unknown_field``)."""


class ReadOnlyEntity(LocalValidationError):
    """The entity is read-only on devices, e.g. ``product`` (``read_only_entity``)."""


class NotDeletable(LocalValidationError):
    """Devices may not delete records of this entity, e.g. ``account`` (``not_deletable``)."""


class ServerOwnedField(LocalValidationError):
    """Only the server writes this field (``server_owned_field``)."""


class UnknownAction(LocalValidationError):
    """The entity has no such domain action (``unknown_action``, field ``op``)."""


class InvalidValue(LocalValidationError):
    """A value of the wrong type, over its limit (a text too long), a time without a UTC offset,
    or a record breaking a domain rule such as a lost opportunity without a reason
    (``validation_error``)."""


class QuoteRefused(LocalValidationError):
    """A quote action the server would refuse (``rules.quotes``): ``already_converted`` (the
    order in ``data["order_id"]``), ``invalid_state`` or ``quote_expired``."""


class RecordNotFound(OutpostError, KeyError):
    """No such record in the local store (or it is deleted locally)."""

    def __str__(self) -> str:
        return self.message


_BY_CODE: dict[str, type[OutpostError]] = {
    codes.NOT_AUTHENTICATED: AuthError,
    codes.TOKEN_EXPIRED: AuthError,
    codes.TOKEN_REVOKED: AuthError,
    codes.INVALID_CREDENTIALS: AuthError,
    codes.DEVICE_DEACTIVATED: AccessRevoked,
    codes.USER_DEACTIVATED: AccessRevoked,
    codes.FORBIDDEN: ForbiddenError,
    codes.UPGRADE_REQUIRED: UpgradeRequired,
    codes.MUTATION_GAP: MutationGapError,
    codes.INVALID_CURSOR: InvalidCursor,
    codes.CURSOR_EXPIRED: InvalidCursor,
    codes.NOT_FOUND: NotFoundError,
}

_BY_STATUS: dict[int, type[OutpostError]] = {
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    426: UpgradeRequired,
}


def error_from_response(
    status: int, code: str | None, message: str, field: str | None, data: dict[str, Any] | None
) -> OutpostError:
    """The typed exception for an error response."""
    cls = _BY_CODE.get(code or "")
    if cls is None:
        if status >= 500 or status == 429:
            cls = ServerError
        else:
            cls = _BY_STATUS.get(status, RequestError)
    return cls(message, code=code or f"http_{status}", field=field, data=data, status=status)
