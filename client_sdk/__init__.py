"""The Outpost offline client: a local SQLite copy of the user's scope, an outbox, and sync."""

from client_sdk.client import OutpostClient
from client_sdk.errors import (
    AccessRevoked,
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidCursor,
    MutationGapError,
    NetworkError,
    NotFoundError,
    OutpostError,
    RecordNotFound,
    RequestError,
    ServerError,
    SyncError,
    UpgradeRequired,
)
from client_sdk.models import LocalConflict, RejectedMutation, SyncReport, SyncStatus
from client_sdk.transport import RetryPolicy

__all__ = [
    "AccessRevoked",
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InvalidCursor",
    "LocalConflict",
    "MutationGapError",
    "NetworkError",
    "NotFoundError",
    "OutpostClient",
    "OutpostError",
    "RecordNotFound",
    "RejectedMutation",
    "RequestError",
    "RetryPolicy",
    "ServerError",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "UpgradeRequired",
]
