"""Écoute's dashboard: `ecoute dashboard` runs this with ECOUTE_CONFIG pointing at config.yaml."""

from __future__ import annotations

import streamlit as st

from dashboard.text import t

st.set_page_config(page_title="Écoute", layout="wide")

page = st.navigation(
    [
        st.Page("pages/inbox.py", title=t("nav_inbox"), icon=":material/inbox:", default=True),
        st.Page("pages/insights.py", title=t("nav_insights"), icon=":material/monitoring:"),
        st.Page("pages/customers.py", title=t("nav_customers"), icon=":material/person_search:"),
    ]
)
page.run()
