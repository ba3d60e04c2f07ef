"""Sign-in, sessions and roles: who may open which page, checked before a page reads any data."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st

from dashboard.render import literal
from dashboard.text import t
from ecoute.config import AuthConfig, Settings, UserConfig
from ecoute.passwords import hash_password, needs_rehash, upgrade_stored_hash, verify_password

SESSION_KEY = "auth"
PAGE_ROLES: dict[str, frozenset[str]] = {
    "inbox": frozenset({"community_manager", "marketer", "admin"}),
    "insights": frozenset({"marketer", "community_manager", "admin"}),
    "customers": frozenset({"sales", "community_manager", "marketer", "admin"}),
    "alerts": frozenset({"community_manager", "marketer", "sales", "admin"}),
    "admin": frozenset({"admin"}),
    "review": frozenset({"community_manager", "marketer", "admin"}),
}
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
        return self.role in PAGE_ROLES[page]


class SignInLimiter:
    """Failed sign-ins per email, shared by every browser session of this dashboard process.

    After `max_failed_sign_ins` failures within `lockout_minutes` the email is locked for that long,
    whatever the password, so opening new browser sessions does not give an attacker new tries.
    """

    def __init__(self) -> None:
        self._failures: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()

    def locked_until(self, email: str, auth: AuthConfig, now: datetime) -> datetime | None:
        window = timedelta(minutes=auth.lockout_minutes)
        with self._lock:
            recent = [at for at in self._failures.get(email, []) if now - at < window]
            self._failures[email] = recent
            if len(recent) < auth.max_failed_sign_ins:
                return None
            return recent[-1] + window

    def failed(self, email: str, now: datetime) -> None:
        with self._lock:
            self._failures.setdefault(email, []).append(now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)


SIGN_IN_LIMITER = SignInLimiter()


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


def current_user(settings: Settings, now: datetime | None = None) -> User | None:
    """The signed-in person of this browser session, None once the session has expired."""
    session = st.session_state.get(SESSION_KEY)
    if not session:
        return None
    if session["expires"] <= (now or datetime.now(UTC)):
        del st.session_state[SESSION_KEY]
        st.session_state["auth_expired"] = True
        return None
    configured = {u.email: u for u in settings.auth.users}
    known = configured.get(session["email"])
    if known is None or known.role != session["role"]:  # removed or changed in config.yaml since
        del st.session_state[SESSION_KEY]
        return None
    return User(session["email"], session["name"], session["role"], session["expires"])


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
    locked = st.session_state.pop("sign_in_locked", None)
    if locked:
        st.error(t("sign_in_locked", minutes=locked))


def _start_session(settings: Settings, config_path: str) -> None:
    email = st.session_state.get("sign_in_email", "")
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""  # never kept once checked
    key, now = email.strip().lower(), datetime.now(UTC)
    until = SIGN_IN_LIMITER.locked_until(key, settings.auth, now)
    if until is not None:  # the password is not even checked while the email is locked
        st.session_state["sign_in_locked"] = max(1, math.ceil((until - now).total_seconds() / 60))
        return
    user = authenticate(settings, email, password, Path(config_path))
    if user is None:
        SIGN_IN_LIMITER.failed(key, now)
        st.session_state["sign_in_failed"] = True
        return
    SIGN_IN_LIMITER.succeeded(key)
    st.session_state[SESSION_KEY] = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "expires": datetime.now(UTC) + timedelta(minutes=settings.auth.session_minutes),
    }


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)


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
