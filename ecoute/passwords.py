"""Password hashes for dashboard users: scrypt from the standard library, salted, constant-time checked.

New hashes use OWASP's current scrypt parameters (N=2^17, r=8, p=1); hashes made with weaker ones still
verify, and `needs_rehash` tells the sign-in to replace them (`upgrade_stored_hash`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
from pathlib import Path

from core.errors import ConfigError

SCHEME = "scrypt"
N, R, P = 2**17, 8, 1
# scrypt needs about 128 * N * r bytes; OpenSSL's default cap (32 MiB) would make every N=2^17 check fail.
MAX_MEMORY = 2**30
MAX_P = 16
MAXMEM = 2**31 - 1  # the largest OpenSSL takes: room for MAX_MEMORY and scrypt's small extra buffers

log = logging.getLogger("ecoute.passwords")
_upgrade_lock = threading.Lock()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=MAXMEM)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash`, the form `auth.users[].password_hash` holds in config.yaml."""
    if not password:
        raise ConfigError("a password cannot be empty")
    salt = salt or os.urandom(16)
    digest = _scrypt(password, salt, N, R, P, 32)
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
    if not _usable(*(int(x) for x in parts[1:4])):
        raise ValueError("scrypt parameters out of range (N a power of two, 128*N*r up to 1 GiB, p up to 16)")
    return stored


def _usable(n: int, r: int, p: int) -> bool:
    return n > 1 and not n & (n - 1) and 128 * n * r <= MAX_MEMORY and p <= MAX_P


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME or not _usable(int(n), int(r), int(p)):
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True for a hash made with weaker parameters than today's."""
    try:
        _, n, r, _, _, _ = stored.split("$")
        return int(n) < N or int(r) < R
    except ValueError:
        return False


def upgrade_stored_hash(config_file: Path, old_hash: str, password: str) -> str | None:
    """Replace `old_hash` in config.yaml by a hash of `password` at today's parameters; the new hash.

    Only that string changes (comments and layout are kept); the file is replaced atomically. None when
    the file does not hold the old hash exactly once or cannot be written (sign-in goes on regardless).
    """
    with _upgrade_lock:  # two sign-ins upgrading at once must not write back each other's old hash
        return _replace_hash(config_file, old_hash, password)


def _replace_hash(config_file: Path, old_hash: str, password: str) -> str | None:
    try:
        text = config_file.read_text(encoding="utf-8")
        if text.count(old_hash) != 1:
            return None
        new_hash = hash_password(password)
        temporary = config_file.with_name(f".{config_file.name}.rehash")
        try:
            # created with the file's own permissions: config.yaml holds every user's hash
            mode = config_file.stat().st_mode & 0o777
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(text.replace(old_hash, new_hash))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, config_file)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not store a stronger password hash in %s: %s", config_file, exc)
        return None
    return new_hash
