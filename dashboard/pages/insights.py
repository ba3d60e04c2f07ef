"""Insights: sentiment over time, volume by source, language and intent, share of voice."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.auth import require_page
from dashboard.cached import distinct, facet_counts, sentiment_by_period
from dashboard.context import Index, open_index, period_picker, settings_or_stop, shown_errors, since
from dashboard.render import CHART_COLORS
from dashboard.text import t
from index.aggregations import SENTIMENTS
from index.queries import MentionFilter


def sentiment_chart(index: Index, flt: MentionFilter) -> alt.LayerChart | None:
    """Stacked daily bars per sentiment, with net sentiment as a line on its own axis."""
    buckets = sentiment_by_period(index, flt, interval="day")
    if not buckets:
        return None
    rows = [
        {"day": b.start, "sentiment": s, "count": getattr(b, s), "net": b.net_sentiment}
        for b in buckets
        for s in SENTIMENTS
    ]
    data = pd.DataFrame(rows)
    day = alt.X("day:T", title=t("day"), timeUnit="yearmonthdate")
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=day,
            y=alt.Y("count:Q", stack="zero", title=t("count")),
            color=alt.Color(
                "sentiment:N",
                title=t("sentiment"),
                scale=alt.Scale(domain=list(SENTIMENTS), range=[CHART_COLORS[s] for s in SENTIMENTS]),
                sort=list(SENTIMENTS),
            ),
            order=alt.Order("sentiment_order:Q"),
            tooltip=[
                alt.Tooltip("day:T", title=t("day")),
                "sentiment:N",
                alt.Tooltip("count:Q", title=t("count")),
            ],
        )
        .transform_calculate(sentiment_order="indexof(['positive', 'neutral', 'negative'], datum.sentiment)")
    )
    net = (
        alt.Chart(data[data["sentiment"] == SENTIMENTS[0]])
        .mark_line(point=True, color="#1f4e79")
        .encode(
            x=day,
            y=alt.Y("net:Q", title=t("net_sentiment"), scale=alt.Scale(domain=[-1, 1])),
            tooltip=[
                alt.Tooltip("day:T", title=t("day")),
                alt.Tooltip("net:Q", title=t("net_sentiment"), format=".2f"),
            ],
        )
    )
    return alt.layer(bars, net).resolve_scale(y="independent")


def bar_chart(counts: dict[str, int], highlight: set[str] | None = None) -> alt.Chart:
    total = sum(counts.values()) or 1
    data = pd.DataFrame(
        [{"value": k, "count": v, "share": v / total} for k, v in counts.items()],
        columns=["value", "count", "share"],
    )
    color: alt.Color | alt.Value = alt.value("#4c78a8")
    if highlight is not None:
        data["kind"] = [t("brand") if v in highlight else t("competitor") for v in data["value"]]
        color = alt.Color(
            "kind:N",
            title=None,
            scale=alt.Scale(domain=[t("brand"), t("competitor")], range=["#1f4e79", "#f28e2b"]),
        )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title=t("count")),
            y=alt.Y("value:N", sort="-x", title=None),
            color=color,
            tooltip=[
                "value:N",
                alt.Tooltip("count:Q", title=t("count")),
                alt.Tooltip("share:Q", title=t("share"), format=".0%"),
            ],
        )
        .properties(height=alt.Step(24))
    )


def small_bars(title: str, counts: dict[str, int], highlight: set[str] | None = None) -> None:
    st.subheader(title)
    if counts:
        st.altair_chart(bar_chart(counts, highlight), width="stretch")
    else:
        st.caption(t("insights_empty"))


def insights(index: Index) -> None:
    st.title(t("insights_title"))
    period = period_picker("insights_period", default="30d", container=st)
    flt = MentionFilter(since=since(period))
    by_sentiment = facet_counts(index, "sentiment.label", flt)
    total = sum(by_sentiment.values())
    if not total:
        st.info(t("insights_empty"))
        return
    negative = by_sentiment.get("negative", 0)
    net = (by_sentiment.get("positive", 0) - negative) / total
    customers = distinct(index, "customer_id", flt)
    cols = st.columns(4)
    cols[0].metric(t("mentions"), f"{total:,}")
    cols[1].metric(t("negative_share"), f"{negative / total:.0%}")
    cols[2].metric(t("net_sentiment"), f"{net:+.2f}", help=t("net_sentiment_help"))
    cols[3].metric(t("linked_customers"), f"{customers:,}", help=t("linked_customers_help"))

    st.subheader(t("sentiment_over_time"))
    chart = sentiment_chart(index, flt)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    st.caption(t("sentiment_totals"))
    cols = st.columns(len(SENTIMENTS))
    for col, sentiment in zip(cols, SENTIMENTS, strict=True):
        col.metric(t(sentiment), f"{by_sentiment.get(sentiment, 0):,}")

    left, right = st.columns(2)
    with left:
        small_bars(t("by_source"), facet_counts(index, "source", flt))
        small_bars(t("by_intent"), facet_counts(index, "intent.label", flt))
    with right:
        small_bars(t("by_language"), facet_counts(index, "language", flt))
        small_bars(t("share_of_voice"), facet_counts(index, "topics", flt), {index.settings.brand.name})


require_page("insights", settings_or_stop())
index = open_index()
with shown_errors(index):
    insights(index)
