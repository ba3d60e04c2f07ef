"""Admin: are the sources healthy, is the CRM mirrored, which index is this, who may sign in."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from dashboard.auth import PAGE_ROLES, require_page
from dashboard.context import Index, open_index, settings_or_stop, shown_errors
from dashboard.render import literal
from dashboard.text import t
from index.capabilities import detect_capabilities
from index.queries import count_customers, source_states


def sources_table(index: Index) -> pd.DataFrame:
    """One row per configured source, with the health its last run recorded."""
    health = {s.source: s.data for s in source_states(index.es, index.names)}
    rows = []
    for source in index.settings.sources:
        data = health.get(source.name, {})
        failures = int(data.get("consecutive_failures", 0))
        state = "off" if not source.enabled else "never_ran" if not data else "failing" if failures else "ok"
        rows.append(
            {
                t("source"): source.name,
                t("source_type"): source.type,
                t("source_state"): t(f"source_state_{state}"),
                t("last_run"): data.get("last_run", ""),
                t("last_success"): data.get("last_success", ""),
                t("items_last_run"): data.get("items_last_run"),
                t("skipped_last_run"): data.get("skipped_items_last_run"),
                t("last_error"): data.get("last_error", "") if failures else "",
            }
        )
    return pd.DataFrame(rows)


def cluster_address(url: str) -> str:
    """The address without any user:password part."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


@st.cache_data(ttl=600, show_spinner=False)
def _capabilities(url: str, prefix: str) -> str:
    index = open_index()
    return detect_capabilities(index.es, prefix).describe()


def admin(index: Index) -> None:
    st.title(t("admin_title"))
    st.subheader(t("admin_sources"))
    st.dataframe(sources_table(index), hide_index=True, width="stretch")

    st.subheader(t("admin_crm"))
    crm = index.settings.crm
    cols = st.columns(2)
    cols[0].metric(t("customers_mirrored"), f"{count_customers(index.es, index.names):,}")
    cols[1].metric(t("crm_refresh"), f"{crm.refresh_seconds // 60} min")
    st.markdown(literal(t("crm_file", path=crm.customers_csv)))

    st.subheader(t("admin_index"))
    st.markdown(literal(t("index_at", url=cluster_address(index.url), prefix=index.names.prefix)))
    st.caption(_capabilities(cluster_address(index.url), index.names.prefix))

    st.subheader(t("admin_users"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("email"): u.email,
                    t("name"): u.name,
                    t("role"): t(f"role_{u.role}"),
                    t("pages"): ", ".join(
                        t(f"nav_{p}") for p, roles in PAGE_ROLES.items() if u.role in roles
                    ),
                }
                for u in index.settings.auth.users
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("users_help"))


require_page("admin", settings_or_stop())
index = open_index()
with shown_errors(index):
    admin(index)
