"""Password hashes for dashboard users: scrypt from the standard library, salted, constant-time checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ecoute.errors import ConfigError

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash`, the form `auth.users[].password_hash` holds in config.yaml."""
    if not password:
        raise ConfigError("a password cannot be empty")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_hash_format(stored: str) -> str:
    """The hash unchanged if it has the form hash_password writes; otherwise ValueError (config check)."""
    parts = stored.split("$")
    try:
        ok = len(parts) == 6 and parts[0] == SCHEME and all(int(p) > 0 for p in parts[1:4])
        ok = ok and bool(base64.b64decode(parts[4], validate=True)) and bool(base64.b64decode(parts[5]))
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("not a password hash from `ecoute users hash-password`")
    return stored


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
