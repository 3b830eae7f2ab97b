"""The OpenAPI document made true to every answer, completed once when the app starts.

Litestar documents each handler's success answer and a generic 400 in its own
``ValidationException`` shape. Every error this API answers has the one shape
``{code, message, field?, data?}`` (``Error``), so each operation gets the error statuses it
can answer, all in that shape; and the sync endpoints, which read their raw body (JSON or
MessagePack), get their request and response bodies from the protocol Structs.
"""

from __future__ import annotations

import re
from typing import Any, cast

import msgspec
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from protocol.sync import MSGPACK, PullRequest, PullResponse, PushRequest, PushResponse
from server.auth.middleware import PUBLIC_PATHS

ERROR = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: a stable machine-readable code, a message for people, "
    "the offending field and extra data when there are some.",
    "properties": {
        "code": {"type": "string", "examples": ["validation_error"]},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "data": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "message"],
}
_WHY = {
    400: "Malformed request: the body is missing or not JSON (malformed_body)",
    401: "No valid bearer token (not_authenticated, token_expired, token_revoked, ...)",
    403: "The caller may not do this (forbidden, user_deactivated, device_deactivated)",
    404: "No such record, or one outside the caller's scope (not_found)",
    409: "The write conflicts with existing data (conflict, in_use, duplicates, device_in_use)",
    412: "If-Match or the body's version names a stale version (version_mismatch)",
    413: "The request body is too large (payload_too_large)",
    422: "Well-formed, but with invalid values (validation_error, unknown_field, ...)",
    426: "The client's protocol version is not supported (upgrade_required)",
    429: "Too many attempts; retry after the Retry-After header (too_many_attempts)",
}
_METHODS = ("get", "put", "post", "delete", "patch")
_SYNC_BODIES = {
    "/sync/push": (PushRequest, PushResponse),
    "/sync/pull": (PullRequest, PullResponse),
}


def complete_document(document: OpenAPI) -> None:
    """Declare the error shape and every error status of each operation; document the sync
    bodies. Runs once at startup, before the document is first served."""
    components = document.components
    if not isinstance(components, Components):
        components = document.components = Components()
    schemas = cast(dict[str, Any], components.schemas if components.schemas is not None else {})
    components.schemas = schemas
    schemas[ERROR] = ERROR_SCHEMA
    _, sync_schemas = msgspec.json.schema_components(
        [kind for pair in _SYNC_BODIES.values() for kind in pair],
        ref_template="#/components/schemas/{name}",
    )
    schemas.update(sync_schemas)
    for path, item in (document.paths or {}).items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            if path in _SYNC_BODIES:
                _sync_bodies(operation, *_SYNC_BODIES[path])
            _error_responses(path, method, operation)
    _link_created_records(document)
    _declare_etags(document, schemas)


def _error_responses(path: str, method: str, operation: Operation) -> None:
    responses = operation.responses or {}
    if any(re.match(pattern, path) for pattern in PUBLIC_PATHS):
        operation.security = [{}]  # the auth middleware lets these through without a token
    secured = operation.security != [{}]  # the login and the public pages opt out with [{}]
    has_if_match = any(getattr(p, "name", None) == "If-Match" for p in (operation.parameters or []))
    statuses = {400, 404, 422, 429}
    if secured or method != "get":  # the login answers 401/403 for bad credentials
        statuses |= {401, 403}
    if method != "get":
        statuses |= {409, 413}
    if has_if_match:
        statuses.add(412)
    if path.startswith("/sync/"):
        statuses |= {409, 426}
    for declared in [key for key in responses if key.startswith("4")]:
        del responses[declared]  # Litestar's generic 400 has another shape
    ref = Reference(ref=f"#/components/schemas/{ERROR}")
    for status in sorted(statuses):
        responses[str(status)] = OpenAPIResponse(
            description=_WHY[status], content={"application/json": OpenAPIMediaType(schema=ref)}
        )
    operation.responses = responses


def _sync_bodies(operation: Operation, request: type[Any], response: type[Any]) -> None:
    def content(kind: type[Any]) -> dict[str, OpenAPIMediaType]:
        ref = Reference(ref=f"#/components/schemas/{kind.__name__}")
        media = OpenAPIMediaType(schema=ref)
        return {"application/json": media, MSGPACK: media}

    operation.request_body = RequestBody(
        content=content(request),
        required=True,
        description=f"A {request.__name__}: JSON, or MessagePack with `Content-Type: {MSGPACK}`.",
    )
    responses = operation.responses or {}
    responses["200"] = OpenAPIResponse(
        description=f"A {response.__name__}: MessagePack when `Accept` asks for {MSGPACK}, "
        "JSON otherwise.",
        content=content(response),
    )
    operation.responses = responses


_PARAM = re.compile(r"\{([^}]+)\}")


def _link_created_records(document: OpenAPI) -> None:
    """Links from each create (``POST /x`` answering 201) to the operations on what it made
    (``/x/{id}``: read, change, delete), so clients and stateful testers can follow them."""
    paths = document.paths or {}
    for path, item in paths.items():
        created = item.post.responses.get("201") if item.post and item.post.responses else None
        if not isinstance(created, OpenAPIResponse):
            continue
        for target, target_item in paths.items():
            rest = target.removeprefix(path + "/")
            if target == rest or "/" in rest or not _PARAM.fullmatch(rest):
                continue
            new_id = _PARAM.fullmatch(rest).group(1)  # type: ignore[union-attr]
            parameters: dict[str, Any] = {
                name: f"$request.path.{name}" for name in _PARAM.findall(path)
            }
            parameters[new_id] = "$response.body#/id"
            links = dict(created.links or {})
            for method in _METHODS:
                operation: Operation | None = getattr(target_item, method, None)
                if operation is not None and operation.operation_id:
                    links[operation.operation_id] = Link(
                        operation_id=operation.operation_id, parameters=parameters
                    )
            created.links = links


def _declare_etags(document: OpenAPI, schemas: dict[str, Any]) -> None:
    """Success answers carrying one versioned record declare their ``ETag`` header."""
    etag = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING),
        description='The record\'s version as an entity tag ("3"), for If-Match',
        required=True,
    )
    for item in (document.paths or {}).values():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            for status, response in (operation.responses or {}).items() if operation else ():
                if not status.startswith("2") or not isinstance(response, OpenAPIResponse):
                    continue
                media = (response.content or {}).get("application/json")
                ref = getattr(media.schema if media else None, "ref", None)
                record = schemas.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else None
                properties = getattr(record, "properties", None) or {}
                if "version" in properties and "items" not in properties:
                    response.headers = {**(response.headers or {}), "ETag": etag}
