"""Sign-in, sessions and roles: who may open which page, checked before a page reads any data."""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st

from dashboard import sessions
from dashboard.pages import page_named
from dashboard.render import literal
from dashboard.text import LANGUAGES, t
from ecoute.config import AuthConfig, Settings, UserConfig
from ecoute.passwords import hash_password, needs_rehash, upgrade_stored_hash, verify_password

SESSION_KEY = "auth"
TRIAGE_ROLES = frozenset({"community_manager", "admin"})
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DECOY_HASH = hash_password("decoy", salt=b"ecoute-decoy-salt")


@dataclass(frozen=True)
class User:
    email: str
    name: str
    role: str
    expires: datetime

    @property
    def can_triage(self) -> bool:
        return self.role in TRIAGE_ROLES

    def may_open(self, page: str) -> bool:
        return self.role in page_named(page).roles


@dataclass
class _Failures:
    count: int
    last: datetime


class SignInThrottle:
    """Growing waits after wrong passwords, per (address, email) and per address; no account is ever locked.

    After `max_failed_sign_ins` wrong passwords from one address for one email (or
    `max_failed_sign_ins_per_address` for any emails), each further try from that address waits
    `first_delay_seconds`, doubling after each wrong password up to `lockout_minutes`. Someone signing
    in from another address is not slowed. Shared by every browser session of this dashboard process.
    """

    MAX_KEYS = 100_000  # oldest forgotten first: memory stays bounded when addresses are rotated

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    def wait(self, address: str, email: str, auth: AuthConfig, now: datetime) -> timedelta:
        """How long `address` must still wait before trying `email` (zero: the password is checked)."""
        with self._lock:
            return max(
                (self._until(key, free, auth, now) - now for key, free in self._keys(address, email, auth)),
                default=timedelta(0),
            )

    def failed(self, address: str, email: str, auth: AuthConfig, now: datetime) -> None:
        with self._lock:
            for key, free in self._keys(address, email, auth):
                self._until(key, free, auth, now)  # forgets a key idle long enough
                known = self._failures.pop(key, None) or _Failures(0, now)
                self._failures[key] = _Failures(known.count + 1, now)  # re-inserted: newest last
            while len(self._failures) > self.MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, address: str, email: str) -> None:
        """The right password clears that address's count for the email (not the address's own count)."""
        with self._lock:
            self._failures.pop((address, email), None)

    @staticmethod
    def _keys(address: str, email: str, auth: AuthConfig) -> list[tuple[tuple[str, str], int]]:
        return [
            ((address, email), auth.max_failed_sign_ins),
            ((address, ""), auth.max_failed_sign_ins_per_address),
        ]

    def _until(self, key: tuple[str, str], free: int, auth: AuthConfig, now: datetime) -> datetime:
        known = self._failures.get(key)
        if known is None:
            return now
        longest = timedelta(minutes=auth.lockout_minutes)
        until = known.last + backoff(known.count, free, auth.first_delay_seconds, longest)
        if now >= until + longest:  # quiet for a whole longest wait after the last one ended: forgiven
            del self._failures[key]
            return now
        return until


def backoff(failures: int, free: int, first_delay_seconds: float, longest: timedelta) -> timedelta:
    """The wait after `failures` wrong passwords when the first `free` ones cost nothing."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 40)  # 2^40 seconds is past any cap; keeps the number small
    return min(timedelta(seconds=first_delay_seconds * 2**doublings), longest)


def client_address() -> str:
    """Who is signing in, by network: the connection's IP (an IPv6 address by its /64), "local" if none."""
    address = getattr(st.context, "ip_address", None)  # Streamlit versions before it: "local"
    if not address:
        return "local"  # Streamlit gives no address for loopback connections
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))  # one host usually holds a whole /64
    return str(ip)


def wait_text(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    return f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"


SIGN_IN_THROTTLE = SignInThrottle()


def authenticate(
    settings: Settings, email: str, password: str, config_file: Path | None = None
) -> UserConfig | None:
    """The configured user with this email and password, or None (never says which one was wrong).

    A hash made with weaker parameters than today's is replaced in `config_file` once it matched.
    """
    wanted = email.strip().lower()
    user = next((u for u in settings.auth.users if u.email.lower() == wanted), None)
    ok = verify_password(password, user.password_hash if user else _DECOY_HASH)
    if not (user and ok):
        return None
    if config_file is not None and needs_rehash(user.password_hash):
        upgrade_stored_hash(config_file, user.password_hash, password)
    return user


TOKEN_KEY = "session_token"
CLEAR_COOKIE_KEY = "session_cookie_clear"


def _state_dir(settings: Settings) -> Path:
    return settings.resolve(settings.state_dir)


def _secret(settings: Settings) -> bytes:
    return sessions.session_secret(_state_dir(settings))


def browser_token() -> str | None:
    """The session cookie the browser sent when this tab connected (a reload or a new tab sends it)."""
    return st.context.cookies.get(sessions.COOKIE)


def restore_session(settings: Settings) -> None:
    """Start this browser session from a valid session cookie, language included, when none is running.

    Called before any widget, so the language the cookie carries is the one the sidebar shows.
    """
    if st.session_state.get(SESSION_KEY) or st.session_state.get(CLEAR_COOKIE_KEY):
        return
    token = browser_token()
    claims = sessions.verify(_secret(settings), token)
    if claims is None or sessions.revoked_sessions(_state_dir(settings)).holds(claims.sid):
        return
    known = next((u for u in settings.auth.users if u.email == claims.email), None)
    if not _still_valid(settings, known, claims.role, claims.pw):  # removed or changed since
        return
    st.session_state[SESSION_KEY] = {
        "email": known.email,
        "name": known.name,
        "role": known.role,
        "sid": claims.sid,
        "pw": claims.pw,
        "expires": datetime.fromtimestamp(claims.exp, UTC),
    }
    st.session_state[TOKEN_KEY] = token
    if claims.lang in LANGUAGES:
        st.session_state["language"] = claims.lang


def current_user(settings: Settings, now: datetime | None = None) -> User | None:
    """The signed-in person of this browser session, None once the session has expired or was signed
    out (in this tab or another)."""
    session = st.session_state.get(SESSION_KEY)
    if not session:
        return None
    if session["expires"] <= (now or datetime.now(UTC)):
        _end_session()
        st.session_state["auth_expired"] = True
        return None
    known = next((u for u in settings.auth.users if u.email == session["email"]), None)
    if not _still_valid(settings, known, session["role"], session.get("pw", "")):
        _end_session()
        return None
    if sessions.revoked_sessions(_state_dir(settings)).holds(session.get("sid", "")):
        _end_session()
        return None
    return User(session["email"], session["name"], session["role"], session["expires"])


def _still_valid(settings: Settings, known: UserConfig | None, role: str, tag: str) -> bool:
    """A session stands while its user is configured with the same role and the same password."""
    if known is None or known.role != role:
        return False
    return hmac.compare_digest(sessions.password_tag(_secret(settings), known.password_hash), tag)


def _end_session() -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[CLEAR_COOKIE_KEY] = True


def keep_cookie(settings: Settings) -> None:
    """Write the session cookie this tab holds, renewed when the language changed (or delete it after
    signing out). Rendered on every run: an unchanged snippet is not run again by the browser."""
    token = st.session_state.get(TOKEN_KEY)
    session = st.session_state.get(SESSION_KEY)
    if token and session:
        claims = sessions.verify(_secret(settings), token)
        language = st.session_state.get("language", "en")
        if claims and claims.lang != language:
            token = sessions.sign(_secret(settings), replace(claims, lang=language))
            st.session_state[TOKEN_KEY] = token
        max_age = max(0, int((session["expires"] - datetime.now(UTC)).total_seconds()))
    elif st.session_state.get(CLEAR_COOKIE_KEY):
        max_age = 0
    else:
        return
    secure = (getattr(st.context, "url", None) or "").startswith("https:")
    with st.sidebar:
        st.html(sessions.cookie_script(token, max_age, secure), unsafe_allow_javascript=True)


def sign_in_form(settings: Settings, config_path: str) -> None:
    """The sign-in form; the session starts in the button's callback, before the page runs again."""
    st.title(t("sign_in_title"))
    if not settings.auth.users:
        st.error(t("no_users", path=literal(config_path)))
        return
    if st.session_state.pop("auth_expired", False):
        st.info(t("session_expired"))
    with st.form("sign_in"):
        st.text_input(t("email"), key="sign_in_email")
        st.text_input(t("password"), type="password", key="sign_in_password")
        st.form_submit_button(
            t("sign_in"), type="primary", on_click=_start_session, args=(settings, config_path)
        )
    if st.session_state.pop("sign_in_failed", False):
        st.error(t("sign_in_wrong"))
    wait = st.session_state.pop("sign_in_wait", None)
    if wait:
        st.error(t("sign_in_wait", wait=wait))


def _start_session(settings: Settings, config_path: str) -> None:
    email = st.session_state.get("sign_in_email", "")
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""  # never kept once checked
    key, address, now = email.strip().lower(), client_address(), datetime.now(UTC)
    wait = SIGN_IN_THROTTLE.wait(address, key, settings.auth, now)
    if wait > timedelta(0):  # the password is not even checked while this address must wait
        st.session_state["sign_in_wait"] = wait_text(wait)
        return
    user = authenticate(settings, email, password, Path(config_path))
    if user is None:
        SIGN_IN_THROTTLE.failed(address, key, settings.auth, now)
        st.session_state["sign_in_failed"] = True
        return
    SIGN_IN_THROTTLE.succeeded(address, key)
    language = st.session_state.get("language", "en")
    token = sessions.issue(
        _secret(settings), user.email, user.role, language, settings.auth.session_minutes, user.password_hash
    )
    claims = sessions.verify(_secret(settings), token)
    assert claims is not None  # just signed
    st.session_state[SESSION_KEY] = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "sid": claims.sid,
        "pw": claims.pw,
        "expires": datetime.fromtimestamp(claims.exp, UTC),
    }
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(CLEAR_COOKIE_KEY, None)


def sign_out(settings: Settings) -> None:
    """End the session everywhere: its id is revoked on the server and the cookie deleted in this tab."""
    session = st.session_state.get(SESSION_KEY)
    if session and "sid" in session:
        expires = int(session["expires"].timestamp())
        claims = sessions.SessionClaims(session["sid"], session["email"], session["role"], "", expires, "")
        sessions.revoked_sessions(_state_dir(settings)).revoke(claims)
    _end_session()


def require_page(page: str, settings: Settings) -> User:
    """The signed-in user if their role may open `page`; otherwise one line and the page stops."""
    user = current_user(settings)
    if user is None:  # a page opened by its address after the session ended
        from dashboard.context import config_path

        sign_in_form(settings, config_path())
        st.stop()
    if not user.may_open(page):
        st.error(t("not_allowed", role=t(f"role_{user.role}")))
        st.stop()
    return user


def display_name(settings: Settings, email: str | None) -> str:
    """A configured user's name for an email; the email itself when unknown."""
    if not email:
        return t("unassigned")
    return next((u.name for u in settings.auth.users if u.email == email), email)
