"""Domain errors: one base with a stable machine-readable code and an HTTP status.

Services raise these; the HTTP layer renders every one as ``{code, message, field?, data?}``.
This module imports nothing from the web framework.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a client may see."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        data: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.data = data
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


class UpgradeRequired(DomainError):
    code = "upgrade_required"
    status = 426


class PreconditionFailed(DomainError):
    code = "version_mismatch"
    status = 412
