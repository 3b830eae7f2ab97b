"""Bearer tokens: ``<token id>.<secret>``; only a keyed hash of the secret is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_secret() -> str:
    """A fresh random token secret."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, key: str) -> str:
    """Keyed hash of a token secret (a stolen database alone cannot mint tokens)."""
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def format_token(token_id: uuid.UUID, secret: str) -> str:
    """The string handed to the client."""
    return f"{token_id.hex}.{secret}"


def parse_token(token: str) -> tuple[uuid.UUID, str] | None:
    """Split a presented token; None when it is not even shaped like one."""
    token_id, _, secret = token.partition(".")
    if not secret or len(token_id) != 32:
        return None
    try:
        return uuid.UUID(hex=token_id), secret
    except ValueError:
        return None
