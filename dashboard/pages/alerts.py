"""Alerts: the alerts sent to the signed-in person, newest first, each one acknowledged with a click."""

from __future__ import annotations

import streamlit as st

from dashboard.auth import User, require_page
from dashboard.context import Index, open_index, settings_or_stop, shown_errors
from dashboard.render import literal, safe_url, when
from dashboard.text import t
from index.documents import Alert
from index.queries import list_alerts
from index.writes import set_alert_status

SCOPES = ("mine", "everyone")


def may_acknowledge(user: User, alert: Alert) -> bool:
    return user.email in alert.recipients or user.role == "admin"


def alert_card(index: Index, user: User, alert: Alert) -> None:
    with st.container(border=True):
        line = t(
            "alert_line",
            rule=alert.rule,
            created=when(alert.created_at),
            sentiment=alert.sentiment,
            intent=alert.intent,
            status=t(f"alert_status_{alert.status}"),
        )
        st.markdown(literal(line))
        st.text(alert.summary)
        cols = st.columns([1, 1, 4])
        url = safe_url(alert.url)
        if url:
            cols[0].link_button(t("open_original"), url)
        if alert.customer_id:
            cols[1].page_link(
                "pages/customers.py",
                label=literal(t("customer")),
                icon=":material/person:",
                query_params={"customer": alert.customer_id},
            )
        can_ack = alert.status == "new" and may_acknowledge(user, alert)
        if can_ack and cols[2].button(t("acknowledge"), key=f"ack_{alert.id}"):
            set_alert_status(index.es, index.names, alert.id, "acknowledged")
            st.rerun()


def alerts(index: Index, user: User) -> None:
    st.title(t("alerts_title"))
    scope = "mine"
    if user.role != "sales":  # a sales person sees the alerts about their own accounts only
        scope = st.segmented_control(
            t("alerts_scope"),
            SCOPES,
            default="mine",
            format_func=lambda s: t("alerts_mine" if s == "mine" else "alerts_everyone"),
            key="alerts_scope",
        )
    open_only = st.checkbox(t("alerts_open_only"), value=True, key="alerts_open_only")
    found = list_alerts(
        index.es,
        index.names,
        recipient=user.email if scope != "everyone" else None,
        status="new" if open_only else None,
    )
    if not found:
        st.info(t("alerts_mine_none"))
    for alert in found:
        alert_card(index, user, alert)


user = require_page("alerts", settings_or_stop())
index = open_index()
with shown_errors(index):
    alerts(index, user)
