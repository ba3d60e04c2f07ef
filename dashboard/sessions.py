"""Signed session cookies: a sign-in survives a reload and a new tab, and carries the language chosen.

The cookie holds who signed in, their role, the language, when it expires, a random session id and a tag
of the password hash it was opened with (a new password ends the sessions of the old one), signed with
HMAC-SHA256. The key comes from $ECOUTE_SESSION_SECRET, or else from `session_secret` in the state
directory (made once, readable by its owner only). Signing out revokes the session id on the server (kept
in `revoked_sessions.json` until it would have expired), so a copied cookie is worthless afterwards.
The cookie is written by a small script in the page (Streamlit can read cookies, not set them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

COOKIE = "ecoute_session"
SECRET_ENV = "ECOUTE_SESSION_SECRET"
SECRET_FILE = "session_secret"
REVOKED_FILE = "revoked_sessions.json"
MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class SessionClaims:
    """What a session cookie says, once its signature was checked."""

    sid: str
    email: str
    role: str
    lang: str
    exp: int  # seconds since the epoch
    pw: str  # password_tag of the hash the person signed in against


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict: a character outside base64url is an error, never skipped (a token is taken only as signed,
    since the page writes it back into a script)."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def session_secret(state_dir: Path) -> bytes:
    """The signing key: $ECOUTE_SESSION_SECRET when set, else the state directory's own (made once)."""
    from_env = os.environ.get(SECRET_ENV, "")
    if from_env:
        if len(from_env.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
        return from_env.encode()
    return _file_secret(state_dir.resolve())


_secret_lock = threading.Lock()


@cache
def _file_secret(state_dir: Path) -> bytes:
    path = state_dir / SECRET_FILE
    with _secret_lock:
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting at once never hold different keys
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as out:
                    out.write(secrets.token_urlsafe(48))
        return path.read_text(encoding="ascii").strip().encode()


def password_tag(secret: bytes, password_hash: str) -> str:
    """A keyed digest of a stored password hash: changes when the password does, says nothing of it."""
    return _b64(hmac.new(secret, b"password:" + password_hash.encode(), hashlib.sha256).digest()[:16])


def issue(
    secret: bytes, email: str, role: str, lang: str, minutes: int, password_hash: str, sid: str | None = None
) -> str:
    """A signed token for a new session (or a renewed one, same `sid`, e.g. when the language changes)."""
    expires = int(time.time()) + minutes * 60
    tag = password_tag(secret, password_hash)
    claims = SessionClaims(sid or secrets.token_urlsafe(18), email, role, lang, expires, tag)
    return sign(secret, claims)


def sign(secret: bytes, claims: SessionClaims) -> str:
    payload = _b64(json.dumps(asdict(claims), separators=(",", ":")).encode())
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{_b64(mac)}"


def verify(secret: bytes, token: str | None, now: float | None = None) -> SessionClaims | None:
    """The claims of a well-signed, unexpired token; None for anything else (never says why)."""
    if not token or token.count(".") != 2:
        return None
    version, payload, mac = token.split(".")
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    try:
        if version != "v1" or not hmac.compare_digest(_unb64(mac), expected):
            return None
        claims = SessionClaims(**json.loads(_unb64(payload)))
    except (binascii.Error, ValueError, TypeError):
        return None
    if claims.exp <= (time.time() if now is None else now):
        return None
    return claims


class RevokedSessions:
    """Session ids signed out before they expired, kept on disk until they would have expired."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _load(self) -> dict[str, int]:
        try:
            return {str(k): int(v) for k, v in json.loads(self.path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def revoke(self, claims: SessionClaims) -> None:
        with self._lock:
            now = time.time()
            kept = {sid: exp for sid, exp in self._load().items() if exp > now}
            kept[claims.sid] = claims.exp
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(kept), encoding="utf-8")
            os.chmod(temporary, 0o600)
            temporary.replace(self.path)

    def holds(self, sid: str) -> bool:
        return sid in self._load()


@cache
def revoked_sessions(state_dir: Path) -> RevokedSessions:
    """One store per state directory, shared by every browser session of this process."""
    return RevokedSessions(state_dir.resolve() / REVOKED_FILE)


def cookie_script(token: str | None, max_age: int, secure: bool = False) -> str:
    """The snippet that stores `token` as the session cookie (or deletes it when None)."""
    value = token or ""
    attributes = f"; Path=/; SameSite=Lax; Max-Age={max_age if token else 0}"
    if secure:
        attributes += "; Secure"
    cookie = json.dumps(f"{COOKIE}={value}{attributes}")  # a token is base64url and dots: nothing to escape
    return f"<script>document.cookie = {cookie};</script>"
