"""Mentions newly assigned to me: a toast and an unread count in the sidebar, checked without a click."""

from __future__ import annotations

import streamlit as st
from elasticsearch import ApiError, TransportError

from dashboard.auth import User
from dashboard.context import Index
from dashboard.pages import page_named
from dashboard.text import number, plural, t
from dashboard.triage import ME
from index.triage import assigned_open

KNOWN_KEY, UNREAD_KEY = "assigned_known", "assigned_unread"


def check(index: Index, user: User) -> tuple[int, set[str]]:
    """My open assignments now, and those assigned to me by someone else since this tab first looked
    (a toast for each new batch). An index away counts nothing: the pages say so themselves."""
    try:
        now = assigned_open(index.es, index.names, user.email)
    except (ApiError, TransportError):
        return 0, st.session_state.get(UNREAD_KEY, set())
    known: set[str] | None = st.session_state.get(KNOWN_KEY)
    unread: set[str] = st.session_state.setdefault(UNREAD_KEY, set())
    if known is not None:
        fresh = {mid for mid, by in now.items() if mid not in known and by != user.email}
        if fresh:
            st.toast(plural("assigned_toast", len(fresh)), icon=":material/assignment_ind:")
            unread |= fresh
    unread &= set(now)  # closed or given to someone else since: no longer waiting for me
    st.session_state[KNOWN_KEY] = set(now)
    return len(now), unread


def badge(index: Index, user: User) -> None:
    """The sidebar line "Assigned to you: N open (k new)", refreshed every `dashboard.live_refresh_seconds`;
    its button opens the Inbox on my mentions and marks them read."""

    @st.fragment(run_every=index.settings.dashboard.live_refresh_seconds)
    def line() -> None:
        total, unread = check(index, user)
        st.caption(t("assigned_badge", n=number(total), new=number(len(unread))))
        if unread and st.button(t("assigned_open"), key="assigned_open", type="tertiary"):
            st.session_state[UNREAD_KEY] = set()
            st.session_state["inbox_assignee"] = ME
            st.switch_page(page_named("inbox").script)

    with st.sidebar:
        line()
