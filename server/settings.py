"""Runtime configuration, read from the environment once and passed to ``create_app``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

import msgspec

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///outpost.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server needs to know about its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = "dev-insecure-secret-change-me"
    access_token_ttl_seconds: int = 30 * 24 * 3600
    max_body_bytes: int = 8 * 1024 * 1024
    page_size_default: int = 50
    page_size_max: int = 500
    tombstone_retention_seconds: int = 30 * 24 * 3600
    sync_push_max_mutations: int = 2000
    sync_pull_max_limit: int = 5000
    # a pushed hybrid logical clock more than this ahead of the server's time is clamped to it
    sync_max_clock_skew_seconds: int = 300
    password_kdf_n: int = 2**14
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``OUTPOST_*`` environment variables."""
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        for field in cls.__struct_fields__:
            key = "OUTPOST_" + field.upper()
            if key in env:
                raw[field] = env[key]
        settings = msgspec.convert(raw, cls, strict=False)
        return settings

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def random_secret() -> str:
    """A fresh secret key for tests and first runs."""
    return secrets.token_urlsafe(32)
