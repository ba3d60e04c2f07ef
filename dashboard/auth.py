"""Sign-in, sessions and roles: who may open which page, checked before a page reads any data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard.render import literal
from dashboard.text import t
from ecoute.config import Settings, UserConfig
from ecoute.passwords import hash_password, verify_password

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


def authenticate(settings: Settings, email: str, password: str) -> UserConfig | None:
    """The configured user with this email and password, or None (never says which one was wrong)."""
    wanted = email.strip().lower()
    user = next((u for u in settings.auth.users if u.email.lower() == wanted), None)
    ok = verify_password(password, user.password_hash if user else _DECOY_HASH)
    return user if user and ok else None


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
        st.form_submit_button(t("sign_in"), type="primary", on_click=_start_session, args=(settings,))
    if st.session_state.pop("sign_in_failed", False):
        st.error(t("sign_in_wrong"))


def _start_session(settings: Settings) -> None:
    email = st.session_state.get("sign_in_email", "")
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""  # never kept once checked
    user = authenticate(settings, email, password)
    if user is None:
        st.session_state["sign_in_failed"] = True
        return
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
