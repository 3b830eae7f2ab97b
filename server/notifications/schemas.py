"""Wire shapes of the push-token, preference and delivery-status endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from server.notifications.models import NotificationStatus

TokenText = Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=r"^\S+$")]
Platform = Literal["android", "ios", "web"]
MinuteOfDay = Annotated[int, msgspec.Meta(ge=0, le=1439)]
RuleName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class PushTokenRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The FCM registration token of the caller's device."""

    token: TokenText
    platform: Platform = "android"


class PushTokenView(msgspec.Struct, kw_only=True):
    """A device's registered token (the token itself is not echoed); made from its row with
    ``msgspec.convert(row, PushTokenView, from_attributes=True)``."""

    device_id: uuid.UUID
    user_id: uuid.UUID
    platform: str
    updated_at: dt.datetime


class PreferencesPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to the caller's quiet hours (local minutes after midnight) and muted rules."""

    quiet_start_minute: MinuteOfDay | None | msgspec.UnsetType = msgspec.UNSET
    quiet_end_minute: MinuteOfDay | None | msgspec.UnsetType = msgspec.UNSET
    muted_rules: list[RuleName] | msgspec.UnsetType = msgspec.UNSET


class PreferencesView(msgspec.Struct, kw_only=True):
    """The caller's effective notification preferences."""

    timezone: str
    quiet_start_minute: int
    quiet_end_minute: int
    muted_rules: list[str]
    rules: list[str]  # every rule that may be muted


class DeliveryView(msgspec.Struct, kw_only=True):
    """One notification as a manager sees its delivery."""

    id: uuid.UUID
    user_id: uuid.UUID
    rule: str
    record_id: uuid.UUID
    title: str
    status: NotificationStatus
    due_at: dt.datetime
    attempts: int
    sent_at: dt.datetime | None
    last_error: str
    created_at: dt.datetime
