"""``/devices/push-token`` and ``/notifications``: the caller's push token and preferences
(every role: they are for the phone's user), and managers' view of deliveries."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody

from server.auth.guards import managers_only
from server.notifications.models import NotificationStatus
from server.notifications.preferences import PreferenceService
from server.notifications.schemas import (
    DeliveryView,
    PreferencesPatch,
    PreferencesView,
    PushTokenRequest,
    PushTokenView,
)
from server.notifications.tokens import PushTokenService
from server.pagination import Page
from server.sync.registry import Principal

Caller = NamedDependency[Principal]


def provide_token_service(state: State) -> PushTokenService:
    """The token registry on the app's database."""
    return PushTokenService(state.db)


def provide_preference_service(state: State) -> PreferenceService:
    """Preferences and deliveries on the app's database."""
    return PreferenceService(state.db, state.settings)


class PushTokenController(Controller):
    """The FCM registration token of the caller's device (the SDK registers it)."""

    path = "/devices/push-token"
    tags = ["notifications"]
    dependencies = {"tokens": Provide(provide_token_service, sync_to_thread=False)}

    @put("/", status_code=200)
    async def register(
        self,
        data: JSONBody[PushTokenRequest],
        principal: Caller,
        tokens: NamedDependency[PushTokenService],
    ) -> PushTokenView:
        """Register or refresh the token of the device the bearer token is bound to; the
        token leaves any other device it was registered on."""
        return await tokens.register(principal, data)

    @get("/")
    async def current(
        self, principal: Caller, tokens: NamedDependency[PushTokenService]
    ) -> PushTokenView:
        """The caller's device token (404 when none is registered)."""
        return await tokens.current(principal)

    @delete("/", status_code=204)
    async def remove(self, principal: Caller, tokens: NamedDependency[PushTokenService]) -> None:
        """Stop pushes to the caller's device."""
        await tokens.remove(principal)


class NotificationController(Controller):
    """The caller's notification preferences; delivery status for managers."""

    path = "/notifications"
    tags = ["notifications"]
    dependencies = {"prefs": Provide(provide_preference_service, sync_to_thread=False)}

    @get("/preferences")
    async def preferences(
        self, principal: Caller, prefs: NamedDependency[PreferenceService]
    ) -> PreferencesView:
        """Quiet hours (minutes after local midnight, the user's time zone) and muted rules."""
        return await prefs.get(principal)

    @patch("/preferences")
    async def update_preferences(
        self,
        data: JSONBody[PreferencesPatch],
        principal: Caller,
        prefs: NamedDependency[PreferenceService],
    ) -> PreferencesView:
        """Change quiet hours or muted rules; ``null`` quiet hours fall back to the defaults."""
        return await prefs.update(principal, data)

    @get("/deliveries", guards=[managers_only])
    async def deliveries(
        self,
        principal: Caller,
        prefs: NamedDependency[PreferenceService],
        user_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[NotificationStatus | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[DeliveryView]:
        """Notifications of the caller's team (everyone for an admin) in creation order,
        keyset-paginated, with their delivery status."""
        return await prefs.deliveries(principal, user_id, status, cursor, limit)
