"""Users and their managers: creation, changes, and who may see whom."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy.exc import IntegrityError

from server.auth.models import Role, User
from server.auth.passwords import Passwords
from server.auth.repository import AuthRepository
from server.db import Database, new_id, utcnow
from server.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from server.pagination import Page, clamp_limit
from server.settings import Settings
from server.sfa.users import rules
from server.sfa.users.repository import UserRepository
from server.sfa.users.schemas import UserCreate, UserFilter, UserPatch, UserView
from server.sync.registry import Principal

DUPLICATE_EMAIL = "duplicate_email"
HAS_REPORTS = "has_reports"
_MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)


def _require(problem: str | None, field: str) -> None:
    if problem is not None:
        raise ValidationFailed(problem, field=field)


def _check_name(name: str) -> None:
    _require(None if 0 < len(name.strip()) <= 200 else "name must be 1 to 200 characters", "name")


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed(f"unknown role {value!r}", field="role") from None


class UserService:
    """User administration over one database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def _hash(self, password: str) -> str:
        # In the bounded hashing pool: it is deliberately slow and memory-hard.
        return await Passwords(self.settings).hash(password)

    async def create(self, data: UserCreate) -> UserView:
        """Create a user; the email must be unused and the manager a manager or admin."""
        email = rules.normalize_email(data.email)
        _require(rules.email_problem(email), "email")
        _check_name(data.name)
        role = _role(data.role)
        _require(rules.password_problem(data.password), "password")
        _require(rules.timezone_problem(data.timezone), "timezone")
        password_hash = await self._hash(data.password)
        try:
            async with self.db.transaction() as session:
                repo = UserRepository(session)
                if await repo.email_taken(email):
                    raise Conflict(
                        "a user with this email exists", field="email", code=DUPLICATE_EMAIL
                    )
                if data.manager_id is not None:
                    await self._check_manager(repo, data.manager_id, None)
                user = await repo.add(
                    User(
                        id=new_id(),
                        email=email,
                        name=data.name.strip(),
                        role=role,
                        manager_id=data.manager_id,
                        password_hash=password_hash,
                        timezone=data.timezone,
                        active=True,
                    )
                )
                return UserView.of(user)
        except IntegrityError as exc:
            # Two concurrent creations with one email: the unique index decides.
            raise Conflict(
                "a user with this email exists", field="email", code=DUPLICATE_EMAIL
            ) from exc

    async def update(
        self,
        principal: Principal,
        user_id: uuid.UUID,
        patch: UserPatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> UserView:
        """Change a user; deactivation and a new password revoke the user's tokens."""
        if patch.name is not msgspec.UNSET:
            _check_name(patch.name)
        if patch.timezone is not msgspec.UNSET:
            _require(rules.timezone_problem(patch.timezone), "timezone")
        password_hash = None
        if patch.password is not msgspec.UNSET:
            _require(rules.password_problem(patch.password), "password")
            password_hash = await self._hash(patch.password)
        async with self.db.transaction() as session:
            repo = UserRepository(session)
            user = await repo.get(user_id, for_update=True)
            if user is None:
                raise NotFound("no such user", field="id")
            if expected is not None and user.version not in expected:
                raise PreconditionFailed(
                    f"user {user_id} has changed: it is at version {user.version}",
                    field="version",
                    data={"version": user.version},
                )
            if patch.role is not msgspec.UNSET and patch.role != user.role:
                await self._check_role_change(repo, principal, user, _role(patch.role))
                user.role = _role(patch.role)
            if patch.manager_id is not msgspec.UNSET:
                if patch.manager_id is not None:
                    await self._check_manager(repo, patch.manager_id, user.id)
                user.manager_id = patch.manager_id
            if patch.name is not msgspec.UNSET:
                user.name = patch.name.strip()
            if patch.timezone is not msgspec.UNSET:
                user.timezone = patch.timezone
            revoke = password_hash is not None
            if password_hash is not None:
                user.password_hash = password_hash
            if patch.active is not msgspec.UNSET and patch.active != user.active:
                if not patch.active and user.id == principal.user_id:
                    raise ValidationFailed("you cannot deactivate yourself", field="active")
                user.active = patch.active
                revoke = revoke or not patch.active
            if revoke:
                await AuthRepository(session).revoke_user_tokens(user.id, utcnow())
            await session.flush()
            return UserView.of(user)

    async def list_users(self, principal: Principal, filters: UserFilter) -> Page[UserView]:
        """Users the caller may see (an admin: all; a manager: their team), one page."""
        limit = clamp_limit(
            filters.limit, self.settings.page_size_default, self.settings.page_size_max
        )
        visible_to = self._visibility(principal)
        async with self.db.reading() as session:
            users, next_cursor = await UserRepository(session).page(
                filters, visible_to=visible_to, limit=limit
            )
            return Page(items=[UserView.of(u) for u in users], next_cursor=next_cursor)

    async def get_user(self, principal: Principal, user_id: uuid.UUID) -> UserView:
        """One user the caller may see; others are ``not_found`` (their existence stays private)."""
        visible_to = self._visibility(principal)
        async with self.db.reading() as session:
            repo = UserRepository(session)
            user = await repo.get(user_id)
            if user is None or (
                visible_to is not None and not await repo.in_team(visible_to, user_id)
            ):
                raise NotFound("no such user", field="id")
            return UserView.of(user)

    @staticmethod
    def _visibility(principal: Principal) -> uuid.UUID | None:
        if principal.role == Role.ADMIN:
            return None
        if principal.role == Role.MANAGER:
            return principal.user_id
        raise Forbidden("requires role manager or admin")

    @staticmethod
    async def _check_manager(
        repo: UserRepository, manager_id: uuid.UUID, user_id: uuid.UUID | None
    ) -> None:
        manager = await repo.get(manager_id)
        if manager is None or manager.role not in _MANAGER_ROLES:
            raise ValidationFailed(
                "manager_id must be an existing manager or admin", field="manager_id"
            )
        if user_id is not None and await repo.in_team(user_id, manager_id):
            raise ValidationFailed(
                "a user cannot report to themselves or to their own report", field="manager_id"
            )

    @staticmethod
    async def _check_role_change(
        repo: UserRepository, principal: Principal, user: User, role: Role
    ) -> None:
        if user.id == principal.user_id:
            raise ValidationFailed("you cannot change your own role", field="role")
        if role not in _MANAGER_ROLES and await repo.has_reports(user.id):
            raise Conflict(
                "this user still has reports; reassign them first", field="role", code=HAS_REPORTS
            )


async def create_user(
    db: Database,
    settings: Settings,
    email: str,
    name: str,
    role: Role | str,
    password: str,
    manager_id: uuid.UUID | None = None,
    timezone: str = "UTC",
) -> UserView:
    """Create a user outside HTTP (the CLI's ``create-user``, the demo seed)."""
    data = UserCreate(
        email=email,
        name=name,
        role=_role(role),
        password=password,
        manager_id=manager_id,
        timezone=timezone,
    )
    return await UserService(db, settings).create(data)
