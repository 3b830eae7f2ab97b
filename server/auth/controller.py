"""HTTP endpoints of login, logout, tokens and devices."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from protocol.errors import ErrorBody
from server.auth.guards import admins_only
from server.auth.schemas import (
    DeviceView,
    LoginRequest,
    LoginResponse,
    LogoutResponse,
    MeResponse,
    TokenView,
)
from server.auth.service import AuthService
from server.auth.throttle import TooManyAttempts
from server.pagination import Page
from server.sync.registry import Principal

Service: TypeAlias = NamedDependency[AuthService]
Caller: TypeAlias = NamedDependency[Principal]


def provide_auth_service(state: State) -> AuthService:
    """An ``AuthService`` on the app's database and settings."""
    return AuthService(state.db, state.settings)


_DEPENDENCIES = {"auth_service": Provide(provide_auth_service, sync_to_thread=False)}


def too_many_attempts(_: Request[Any, Any, Any], exc: TooManyAttempts) -> Response[ErrorBody]:
    """429 with ``Retry-After`` (the generic error body plus the header)."""
    return Response(
        content=ErrorBody(code=exc.code, message=exc.message, field=exc.field, data=exc.data),
        status_code=exc.status, media_type=MediaType.JSON,
        headers={"Retry-After": str(exc.retry_after)},
    )


class AuthController(Controller):
    """Login and the caller's own session, tokens and devices."""

    path = "/auth"
    tags = ["auth"]
    dependencies = _DEPENDENCIES
    exception_handlers = {TooManyAttempts: too_many_attempts}

    @post("/login", status_code=200, exclude_from_auth=True, security=[{}])
    async def login(
        self, data: JSONBody[LoginRequest], request: Request[Any, Any, Any],
        auth_service: Service,
    ) -> LoginResponse:
        """Exchange email, password and device id for a bearer token bound to the device.

        Throttled: 429 ``too_many_attempts`` with ``Retry-After`` after too many failures of
        the account or of the client address (see README, ``OUTPOST_LOGIN_*``).
        """
        address = request.client.host if request.client is not None else ""
        return await auth_service.login(data, address)

    @post("/logout", status_code=200)
    async def logout(
        self, request: Request[Principal, uuid.UUID, Any], auth_service: Service
    ) -> LogoutResponse:
        """Revoke the presented token."""
        return await auth_service.logout(request.auth)

    @get("/me")
    async def me(self, principal: Caller, auth_service: Service) -> MeResponse:
        """The caller and the device their token is bound to."""
        return await auth_service.me(principal)

    @get("/tokens")
    async def list_tokens(
        self,
        principal: Caller,
        auth_service: Service,
        user_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[TokenView]:
        """The caller's active tokens (an admin may pass ``user_id``)."""
        return await auth_service.list_tokens(principal, user_id, cursor, limit)

    @post("/tokens/{token_id:uuid}/revoke", status_code=200)
    async def revoke_token(
        self, token_id: FromPath[uuid.UUID], principal: Caller, auth_service: Service
    ) -> TokenView:
        """Revoke one of the caller's tokens (any token for an admin)."""
        return await auth_service.revoke_token(principal, token_id)

    @get("/devices")
    async def my_devices(
        self,
        principal: Caller,
        auth_service: Service,
        active: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DeviceView]:
        """The caller's own devices."""
        return await auth_service.list_devices(
            user_id=principal.user_id, active=active, cursor=cursor, limit=limit
        )


class DeviceController(Controller):
    """Device administration (admins only)."""

    path = "/devices"
    tags = ["devices"]
    guards = [admins_only]
    dependencies = _DEPENDENCIES

    @get()
    async def list_devices(
        self,
        auth_service: Service,
        user_id: FromQuery[uuid.UUID | None] = None,
        active: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DeviceView]:
        """Every device, filtered by owner and active flag."""
        return await auth_service.list_devices(
            user_id=user_id, active=active, cursor=cursor, limit=limit
        )

    @post("/{device_id:uuid}/deactivate", status_code=200)
    async def deactivate(self, device_id: FromPath[uuid.UUID], auth_service: Service) -> DeviceView:
        """Deactivate a device and revoke its tokens."""
        return await auth_service.set_device_active(device_id, False)

    @post("/{device_id:uuid}/activate", status_code=200)
    async def activate(self, device_id: FromPath[uuid.UUID], auth_service: Service) -> DeviceView:
        """Allow a device to log in again."""
        return await auth_service.set_device_active(device_id, True)
