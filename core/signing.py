"""HMAC-SHA256 signatures for webhooks, both ways: Écoute signs what it sends, and checks what it receives.

The signed message is `<unix timestamp>.<body>`; the headers are

    X-Ecoute-Timestamp: 1764700000
    X-Ecoute-Signature: v1=<hex HMAC-SHA256(secret, "1764700000." + body)>

A receiver refuses a signature that does not match, a timestamp older than `max_age` seconds (or too
far in the future), and, with a ReplayGuard, the same signed request seen twice.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from core.errors import EcouteError

TIMESTAMP_HEADER = "X-Ecoute-Timestamp"
SIGNATURE_HEADER = "X-Ecoute-Signature"
VERSION = "v1"


class SignatureError(EcouteError):
    """A signed request that must be refused: bad signature, too old, or already seen."""


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: str | bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes,
    signature: str | None,
    max_age: float = 300.0,
    now: float | None = None,
) -> int:
    """Check a received request; returns its timestamp, or raises SignatureError saying why."""
    if not timestamp or not signature:
        raise SignatureError("unsigned request: timestamp or signature header missing")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise SignatureError(f"timestamp {str(timestamp)[:20]!r} is not a number") from exc
    if abs(sent) > 2**53:  # beyond any clock, and too large to compare with one
        raise SignatureError(f"timestamp {str(timestamp)[:20]!r} is out of range")
    age = (now if now is not None else time.time()) - sent
    if age > max_age or age < -max_age:
        raise SignatureError(f"timestamp is {age:.0f}s away from now (at most {max_age:.0f}s): refused")
    # compare_digest refuses non-ASCII text with TypeError: such a header cannot match anyway
    if not signature.isascii() or not hmac.compare_digest(sign(secret, sent, body), signature.strip()):
        raise SignatureError("signature does not match the body")
    return sent


class ReplayGuard:
    """Remembers the signatures accepted within `max_age`, so a captured request cannot be replayed."""

    def __init__(self, max_age: float = 300.0) -> None:
        self.max_age = max_age
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(
        self,
        secret: str | bytes,
        timestamp: str | None,
        body: bytes,
        signature: str | None,
        now: float | None = None,
    ) -> None:
        moment = now if now is not None else time.time()
        verify(secret, timestamp, body, signature, self.max_age, moment)
        with self._lock:
            self._seen = {s: t for s, t in self._seen.items() if moment - t <= self.max_age}
            if signature in self._seen:
                raise SignatureError("this signed request was already received: replay refused")
            self._seen[signature or ""] = moment
