"""Password hashing with scrypt, the memory-hard KDF of the standard library."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

_R, _P = 8, 1
_MAXMEM = 256 * 1024 * 1024


def hash_password(password: str, *, n: int = 2**14) -> str:
    """Hash a password as ``scrypt$n$r$p$salt$digest`` (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32, maxmem=_MAXMEM
    )
    return "$".join(
        ["scrypt", str(n), str(_R), str(_P), base64.b64encode(salt).decode(),
         base64.b64encode(digest).decode()]
    )


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str, *, n: int) -> bool:
    """True when a stored hash was made with other parameters than the current ones."""
    parts = encoded.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or parts[1:4] != [str(n), str(_R), str(_P)]


@functools.lru_cache(maxsize=8)
def dummy_hash(n: int) -> str:
    """A hash of a random password at cost ``n``: verified against when the email is unknown,
    so a login costs the same KDF time whether or not the account exists."""
    return hash_password(base64.b64encode(os.urandom(24)).decode(), n=n)
