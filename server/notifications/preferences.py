"""Users' notification preferences (quiet hours, muted rules) and managers' delivery view."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.fatigue import QuietHours
from rules.reminders import RULES
from server.auth.models import Role, User
from server.db import Database, utcnow
from server.errors import NotAuthenticated, NotFound, ValidationFailed
from server.notifications.models import Notification, NotificationPreference, NotificationStatus
from server.notifications.outbox import among
from server.notifications.schemas import DeliveryView, PreferencesPatch, PreferencesView
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sfa.users.repository import team_ids
from server.sync.registry import Principal


class UserPreferences(msgspec.Struct, frozen=True, kw_only=True):
    """What the dispatcher needs of a user: time zone, quiet hours, muted rules."""

    timezone: str
    quiet: QuietHours
    muted: frozenset[str]
    active: bool = True


async def load_preferences(
    session: AsyncSession, user_ids: Iterable[uuid.UUID], settings: Settings
) -> dict[uuid.UUID, UserPreferences]:
    """Each user's effective preferences (the settings' quiet hours when they chose none)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(User.id, User.timezone, User.active, NotificationPreference)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(among(User.id, ids, session.get_bind().dialect.name))
    )
    found: dict[uuid.UUID, UserPreferences] = {}
    for user_id, timezone, active, pref in rows.all():
        found[user_id] = _effective(timezone, pref, settings, active)
    return found


def _effective(
    timezone: str, pref: NotificationPreference | None, settings: Settings, active: bool
) -> UserPreferences:
    start = pref.quiet_start_minute if pref and pref.quiet_start_minute is not None else None
    end = pref.quiet_end_minute if pref and pref.quiet_end_minute is not None else None
    return UserPreferences(
        timezone=timezone,
        quiet=QuietHours(
            start_minute=settings.notify_quiet_start_minute if start is None else start,
            end_minute=settings.notify_quiet_end_minute if end is None else end,
        ),
        muted=frozenset(pref.muted_rules if pref else ()),
        active=active,
    )


class PreferenceService:
    """The caller's own preferences, and the delivery status of a manager's team."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def get(self, principal: Principal) -> PreferencesView:
        """The caller's effective preferences."""
        async with self.db.reading() as session:
            return await self._view(session, principal.user_id)

    async def update(self, principal: Principal, patch: PreferencesPatch) -> PreferencesView:
        """Apply ``patch`` to the caller's preferences."""
        if patch.muted_rules is not msgspec.UNSET:
            unknown = sorted(set(patch.muted_rules) - set(RULES))
            if unknown:
                raise ValidationFailed(
                    f"unknown rule {unknown[0]!r}",
                    field="muted_rules",
                    code="unknown_rule",
                    data={"rules": sorted(RULES)},
                )
        async with self.db.transaction() as session:
            pref = await session.get(
                NotificationPreference, principal.user_id, with_for_update=True
            )
            if pref is None:
                pref = NotificationPreference(user_id=principal.user_id, muted_rules=[])
                session.add(pref)
            if patch.quiet_start_minute is not msgspec.UNSET:
                pref.quiet_start_minute = patch.quiet_start_minute
            if patch.quiet_end_minute is not msgspec.UNSET:
                pref.quiet_end_minute = patch.quiet_end_minute
            if patch.muted_rules is not msgspec.UNSET:
                pref.muted_rules = sorted(set(patch.muted_rules))
            pref.updated_at = utcnow()
            await session.flush()
            return await self._view(session, principal.user_id)

    async def _view(self, session: AsyncSession, user_id: uuid.UUID) -> PreferencesView:
        prefs = (await load_preferences(session, [user_id], self.settings)).get(user_id)
        if prefs is None:
            raise NotAuthenticated("unknown caller")
        return PreferencesView(
            timezone=prefs.timezone,
            quiet_start_minute=prefs.quiet.start_minute,
            quiet_end_minute=prefs.quiet.end_minute,
            muted_rules=sorted(prefs.muted),
            rules=sorted(RULES),
        )

    async def deliveries(
        self,
        principal: Principal,
        user_id: uuid.UUID | None,
        status: NotificationStatus | None,
        cursor: str | None,
        limit: int | None,
    ) -> Page[DeliveryView]:
        """One page of the outbox, restricted to the caller's team unless they are an admin."""
        size = page_size(limit, self.settings)
        statement = sa.select(Notification)
        if principal.role != Role.ADMIN:
            statement = statement.where(Notification.user_id.in_(team_ids(principal.user_id)))
        if user_id is not None:
            statement = statement.where(Notification.user_id == user_id)
        if status is not None:
            statement = statement.where(Notification.status == status)
        async with self.db.reading() as session:
            if user_id is not None and principal.role != Role.ADMIN:
                visible = await session.scalar(
                    sa.select(sa.literal(1)).where(
                        sa.literal(user_id).in_(team_ids(principal.user_id))
                    )
                )
                if visible is None:
                    raise NotFound("no such user in your team", field="user_id")
            rows, next_cursor = await fetch_page(
                session, statement, Notification.__table__.c.id, cursor=cursor, limit=size
            )
            return Page(
                items=[msgspec.convert(row[0], DeliveryView, from_attributes=True) for row in rows],
                next_cursor=next_cursor,
            )
