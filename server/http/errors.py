"""Renders every error as ``{code, message, field?, data?}`` with the right status."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from protocol import errors as codes
from protocol.errors import ErrorBody
from server.errors import DomainError
from server.validation import field_info, readable_problem

log = logging.getLogger("outpost")

_PATH = re.compile(r"at `\$\.?([^`]*)`")
_STATUS_CODES = {
    400: codes.BAD_REQUEST,
    401: codes.NOT_AUTHENTICATED,
    403: codes.FORBIDDEN,
    404: codes.NOT_FOUND,
    405: "method_not_allowed",
    409: codes.CONFLICT,
    413: codes.PAYLOAD_TOO_LARGE,
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(status: int, body: ErrorBody) -> Response[ErrorBody]:
    """A JSON error response."""
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _field_of(message: str) -> str | None:
    match = _PATH.search(message)
    if not match:
        return None
    path = match.group(1)
    return path.replace("[", ".").replace("]", "") or None


def classify_decode_error(message: str) -> tuple[int, str, str | None]:
    """Map a msgspec decode/convert message to (status, code, field)."""
    field = _field_of(message)
    if "unknown field" in message:
        unknown = re.search(r"unknown field `([^`]*)`", message)
        name = unknown.group(1) if unknown else None
        full = f"{field}" if field else name
        return 422, codes.UNKNOWN_FIELD, full
    if message.startswith("JSON is malformed") or "malformed" in message.lower() or (
        "truncated" in message.lower()
    ):
        return 400, codes.MALFORMED_BODY, None
    return 422, codes.VALIDATION_ERROR, field


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    return error_response(
        exc.status, ErrorBody(code=exc.code, message=exc.message, field=exc.field, data=exc.data)
    )


def _body_field(key: Any, message: str, field: str | None) -> str | None:
    # Litestar strips msgspec's "- at `$.path`" from body messages and passes the path as
    # ``key`` ("data" alone for the body's root), so the field comes from the key.
    path = ""
    if isinstance(key, str) and key and key != "data":
        path = key.replace("[", ".").replace("]", "")
    named = re.search(r"(?:unknown|missing required) field `([^`]*)`", message)
    if named:
        return f"{path}.{named.group(1)}" if path else named.group(1)
    return path or field


def _declared_type(request: Request[Any, Any, Any] | None, name: str) -> Any:
    """The annotation of handler parameter ``name`` (``data`` for the body), if known."""
    try:
        parameter = request.route_handler.parsed_fn_signature.parameters.get(name)  # type: ignore[union-attr]
    except AttributeError:
        return None
    return None if parameter is None else parameter.annotation


def handle_validation(
    request: Request[Any, Any, Any] | None, exc: ValidationException
) -> Response[ErrorBody]:
    """422 for a well-formed request with invalid values; 400 when the body is missing or not
    JSON at all. The message names the field; enum fields list their values in ``data``."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    detail = extra[0] if extra and isinstance(extra[0], dict) else {}
    message = str(detail.get("message") or exc.detail)
    source = detail.get("source")
    key = detail.get("key")
    if source == "body" and message == f"'{key}'":  # the body was required but absent
        return error_response(
            400, ErrorBody(code=codes.MALFORMED_BODY, message="a JSON request body is required")
        )
    if source in ("query", "path", "header", "cookie"):
        field = key if isinstance(key, str) else None
        text, data = readable_problem(
            message, field, field_info(_declared_type(request, field or ""), None)
        )
        return error_response(
            422, ErrorBody(code=codes.VALIDATION_ERROR, message=text, field=field, data=data)
        )
    status, code, field = classify_decode_error(message)
    if source == "body":
        field = _body_field(key, message, field)
    if status == 400:
        return error_response(status, ErrorBody(code=code, message=message, field=field))
    info = field_info(_declared_type(request, "data"), field) if source == "body" else None
    text, data = readable_problem(message, field, info)
    return error_response(status, ErrorBody(code=code, message=text, field=field, data=data))


def handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    code = _STATUS_CODES.get(status, "http_error")
    if isinstance(exc, NotAuthorizedException):
        code = codes.NOT_AUTHENTICATED
    elif isinstance(exc.__cause__, SerializationException):
        # the body is not valid JSON / MessagePack at all
        code = codes.MALFORMED_BODY
    return error_response(status, ErrorBody(code=code, message=str(exc.detail)))


def handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        ErrorBody(code="internal_error", message="internal server error"),
    )


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[ErrorBody]:
    # msgspec refuses a body nested deeper than the interpreter's recursion limit
    if "deserializ" not in str(exc):
        return handle_unexpected(request, exc)
    return error_response(
        400, ErrorBody(code=codes.MALFORMED_BODY, message="body is nested too deeply")
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
