"""HTTP endpoints of user administration."""

from __future__ import annotations

import uuid
from typing import TypeAlias

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.auth.models import Role
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.users.schemas import UserCreate, UserFilter, UserPatch, UserView
from server.sfa.users.service import UserService
from server.sync.registry import Principal

Service: TypeAlias = NamedDependency[UserService]
Caller: TypeAlias = NamedDependency[Principal]


def provide_user_service(state: State) -> UserService:
    """A ``UserService`` on the app's database and settings."""
    return UserService(state.db, state.settings)


class UserController(Controller):
    """Users: managers see their team, admins see and change everyone."""

    path = "/users"
    tags = ["users"]
    guards = [managers_only]
    dependencies = {"user_service": Provide(provide_user_service, sync_to_thread=False)}

    @get()
    async def list_users(
        self,
        principal: Caller,
        user_service: Service,
        role: FromQuery[Role | None] = None,
        manager_id: FromQuery[uuid.UUID | None] = None,
        active: FromQuery[bool | None] = None,
        q: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[UserView]:
        """Users visible to the caller, filtered, one page at a time."""
        filters = UserFilter(
            role=role, manager_id=manager_id, active=active, q=q, cursor=cursor, limit=limit
        )
        return await user_service.list_users(principal, filters)

    @get("/{user_id:uuid}")
    async def get_user(
        self, user_id: FromPath[uuid.UUID], principal: Caller, user_service: Service
    ) -> UserView:
        """One user visible to the caller."""
        return await user_service.get_user(principal, user_id)

    @post(guards=[admins_only])
    async def create_user(self, data: JSONBody[UserCreate], user_service: Service) -> UserView:
        """Create a user."""
        return await user_service.create(data)

    @patch("/{user_id:uuid}", guards=[admins_only])
    async def update_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatch],
        principal: Caller,
        user_service: Service,
        if_match: IfMatch = None,
    ) -> UserView:
        """Change a user's name, role, manager, time zone, password or active flag."""
        return await user_service.update(
            principal, user_id, data, expected=expected_version(if_match, data.version)
        )
