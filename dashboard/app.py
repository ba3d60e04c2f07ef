"""Écoute's dashboard: `ecoute dashboard` runs this with ECOUTE_CONFIG pointing at config.yaml."""

from __future__ import annotations

import streamlit as st

from dashboard import assigned
from dashboard.auth import (
    current_user,
    keep_cookie,
    restore_session,
    sign_in_form,
    sign_out,
)
from dashboard.context import config_path, configured_index, settings_or_stop
from dashboard.pages import PAGES, pages_for
from dashboard.text import LANGUAGES, t

st.set_page_config(page_title="Écoute", layout="wide")

settings = settings_or_stop()
restore_session(settings)  # a reload or a new tab: the signed cookie, language included
st.sidebar.selectbox(
    "Language · Langue",
    list(LANGUAGES),
    format_func=LANGUAGES.__getitem__,
    key="language",
)
user = current_user(settings)
keep_cookie(settings)
if user is None:
    # The page the address asks for is kept (not run) with its query parameters (?customer=…), so it is
    # the one shown once signed in, in this tab or after a reload.
    st.navigation([st.Page(p.script, title=t(p.title)) for p in PAGES], position="hidden")
    sign_in_form(settings, config_path())
    st.stop()

st.sidebar.caption(t("signed_in_as", name=user.name, role=t(f"role_{user.role}")))
st.sidebar.button(t("sign_out"), key="sign_out", on_click=sign_out, args=(settings,))
if user.can_triage:
    assigned.badge(configured_index(), user)
st.navigation(
    [
        st.Page(p.script, title=t(p.title), icon=p.icon, default=i == 0)
        for i, p in enumerate(pages_for(user.role))
    ]
).run()
