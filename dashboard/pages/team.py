"""Team: time to first response and to close per person, source, intent and team; the response rate;
the backlog over time; alerts acknowledged within their target. Exportable as CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.auth import display_name, require_page
from dashboard.context import Index, open_index, settings_or_stop, shown_errors, window_picker
from dashboard.export import csv_bytes
from dashboard.render import draw_chart, intent_text
from dashboard.text import number, percent, t
from ecoute.service import Row, TeamStats, team_stats
from index.team import alert_times, handled_mentions

DIMENSIONS = ("person", "source", "intent", "team")
COLUMNS = {
    "mentions": "col_mentions",
    "responded": "col_responded",
    "response_rate": "col_response_rate",
    "response_median_h": "col_response_median",
    "response_p90_h": "col_response_p90",
    "closed": "col_closed",
    "close_median_h": "col_close_median",
    "close_p90_h": "col_close_p90",
}


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def rows_frame(index: Index, rows: list[Row]) -> pd.DataFrame:
    """One line per person, source, intent and team; times in hours."""
    records = []
    for row in rows:
        key = row.key
        if row.dimension == "person":
            key = display_name(index.settings, row.key)
        elif row.dimension == "intent":
            key = intent_text(row.key)
        record = {t("col_dimension"): t(f"dimension_{row.dimension}"), t("col_key"): key}
        for name, label in COLUMNS.items():
            value = getattr(row, name)
            record[t(label)] = _rounded(value, 2) if isinstance(value, float) else value
        records.append(record)
    columns = [t("col_dimension"), t("col_key"), *(t(label) for label in COLUMNS.values())]
    return pd.DataFrame(records, columns=columns)


def period_of(index: Index) -> tuple[datetime, datetime]:
    window = window_picker("team_period", default="30d")
    now = datetime.now(UTC)
    until = min(window.until or now, now)
    return window.since or until - timedelta(days=365), until


def team(index: Index) -> None:
    st.title(t("team_title"))
    st.caption(t("team_caption"))
    since, until = period_of(index)
    step = timedelta(hours=1) if until - since <= timedelta(days=2) else timedelta(days=1)
    stats: TeamStats = team_stats(
        handled_mentions(index.es, index.names, since, until),
        alert_times(index.es, index.names, since, until),
        index.settings.service_targets,
        since,
        until,
        step,
    )
    cols = st.columns(3)
    cols[0].metric(t("team_mentions"), number(stats.mentions))
    rate = stats.response_rate
    cols[1].metric(t("team_response_rate"), "—" if rate is None else percent(rate))
    alerts = stats.alerts_rate
    shown = (
        "—"
        if alerts is None
        else f"{percent(alerts)} ({stats.alerts_within_target}/{stats.alerts_with_target})"
    )
    cols[2].metric(t("team_alerts_in_target"), shown)
    if not stats.mentions and not stats.rows:
        st.info(t("team_empty"))
    frame = rows_frame(index, stats.rows)
    for dimension in DIMENSIONS:
        part = frame[frame[t("col_dimension")] == t(f"dimension_{dimension}")]
        if part.empty:
            continue
        st.subheader(t(f"team_by_{dimension}"))
        st.dataframe(
            part.drop(columns=[t("col_dimension")]), hide_index=True, width="stretch", key=f"team_{dimension}"
        )
    st.subheader(t("team_backlog"))
    backlog = pd.DataFrame(
        [{t("col_moment"): moment, t("col_open"): count} for moment, count in stats.backlog]
    )
    if not backlog.empty:
        chart = (
            alt.Chart(backlog.rename(columns={t("col_moment"): "moment", t("col_open"): "open"}))
            .mark_line()
            .encode(
                x=alt.X("moment:T", title=t("col_moment"), axis=alt.Axis(format="%Y-%m-%d")),
                y=alt.Y("open:Q", title=t("col_open")),
                tooltip=[
                    alt.Tooltip("moment:T", title=t("col_moment"), format="%Y-%m-%d %H:%M"),
                    alt.Tooltip("open:Q", title=t("col_open")),
                ],
            )
        )
        draw_chart(chart)
    st.download_button(
        t("team_export"), csv_bytes(frame), file_name="team.csv", mime="text/csv", key="team_csv"
    )


require_page("team", settings_or_stop())
index = open_index()
with shown_errors(index):
    team(index)
