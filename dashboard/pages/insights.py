"""Insights: sentiment over time, volume by source, language and intent, share of voice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.auth import require_page
from dashboard.cached import insights_of, overview_of
from dashboard.context import (
    Index,
    Window,
    date_range_input,
    days,
    open_index,
    range_value,
    settings_or_stop,
    shown_errors,
    window_picker,
)
from dashboard.export import (
    Report,
    bucket_label,
    comparison_frame,
    counts_frame,
    csv_bytes,
    html_report,
    over_time_frame,
    svg_sentiment_chart,
    svg_share_chart,
)
from dashboard.pages import page_named
from dashboard.render import CHART_COLORS, draw_chart, intent_text, literal
from dashboard.text import labels, number, percent, plural, t
from index.aggregations import (
    INSIGHT_FIELDS,
    SENTIMENTS,
    Overview,
    ShareOfVoice,
    Spike,
    SpikeExplanation,
    explain_spike,
    find_spikes,
    interval_for,
)
from index.mention_search import MentionFilter

SPIKE_WINDOW = 7  # buckets before a spike it is measured (find_spikes) and explained (explain_spike) against
# (a comment, not a docstring: Streamlit shows a page script's bare strings on the page)


def points(delta: float) -> str:
    """A change of a percentage, in percentage points: -0.1 is "-10 pts", never "-10%"."""
    return t("pts", value=number(delta * 100, signed=True))


def net(value: float, signed: bool = True) -> str:
    """A net sentiment (-1 to 1) with two decimals, as the language writes them: +0.25, +0,25."""
    return number(value, 2, signed=signed)


def sentiment_chart(buckets, spikes: list[Spike], interval: str = "day") -> alt.LayerChart | None:
    """Stacked bars per day (or hour) of the configured zone and sentiment, net sentiment as a line on
    its own axis through the middle of each bar, spikes as red rules.

    Buckets are named server-side in the configured zone (a discrete axis), so the browser's own time
    zone never moves a bar, and one day is 24 hourly bars, not one wide one."""
    if not buckets:
        return None
    names = {s: t(s) for s in SENTIMENTS}
    rows = [
        {
            "day": bucket_label(b.start, interval),
            "sentiment": names[s],
            "sentiment_order": order,
            "count": getattr(b, s),
            "net": b.net_sentiment,
        }
        for b in buckets
        for order, s in enumerate(SENTIMENTS)
    ]
    data = pd.DataFrame(rows)
    order = [bucket_label(b.start, interval) for b in buckets]
    day = alt.X("day:O", title=t("hour" if interval == "hour" else "day"), sort=order)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=day,
            y=alt.Y("count:Q", stack="zero", title=t("count")),
            color=alt.Color(
                "sentiment:N",
                title=t("sentiment"),
                scale=alt.Scale(domain=list(names.values()), range=[CHART_COLORS[s] for s in SENTIMENTS]),
                sort=list(names.values()),
            ),
            order=alt.Order("sentiment_order:Q"),
            tooltip=[
                alt.Tooltip("day:O", title=t("day")),
                alt.Tooltip("sentiment:N", title=t("sentiment")),
                alt.Tooltip("count:Q", title=t("count")),
            ],
        )
    )
    line = (
        alt.Chart(data[data["sentiment_order"] == 0])
        .mark_line(point=True, color="#1f4e79")
        .encode(
            x=day,
            y=alt.Y("net:Q", title=t("net_sentiment"), scale=alt.Scale(domain=[-1, 1])),
            tooltip=[
                alt.Tooltip("day:O", title=t("day")),
                alt.Tooltip("net:Q", title=t("net_sentiment"), format=".2f"),
            ],
        )
    )
    layers = alt.layer(bars, line).resolve_scale(y="independent")
    if not spikes:
        return layers
    marks = pd.DataFrame(
        [
            {
                "day": bucket_label(s.start, interval),
                "volume": s.volume,
                "baseline": s.baseline,
                "ratio": s.ratio,
            }
            for s in spikes
        ]
    )
    rules = (
        alt.Chart(marks)
        .mark_rule(color="#d62728", strokeDash=[6, 3], size=2)
        .encode(
            x=day,
            tooltip=[
                alt.Tooltip("day:O", title=t("spike")),
                alt.Tooltip("volume:Q", title=t("mentions")),
                alt.Tooltip("baseline:Q", title=t("baseline")),
            ],
        )
    )
    return alt.layer(layers, rules)


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
                alt.Tooltip("value:N", title=t("value")),
                alt.Tooltip("count:Q", title=t("count")),
                alt.Tooltip("share:Q", title=t("share"), format=".0%"),
            ],
        )
        .properties(height=alt.Step(24))
    )


def small_bars(title: str, counts: dict[str, int], highlight: set[str] | None = None) -> None:
    st.subheader(title)
    if counts:
        draw_chart(bar_chart(counts, highlight))
    else:
        st.caption(t("insights_empty"))


def summary(found: Overview) -> dict[str, float]:
    """Headline numbers of one period: volume, negative share, net sentiment, customers who spoke."""
    by_sentiment = found.counts["sentiment.label"]
    total = sum(by_sentiment.values())
    negative = by_sentiment.get("negative", 0)
    return {
        "total": total,
        "negative_share": negative / total if total else 0.0,
        "net": (by_sentiment.get("positive", 0) - negative) / total if total else 0.0,
        "customers": found.customers,
        **{s: by_sentiment.get(s, 0) for s in SENTIMENTS},
    }


COMPARE_WITH = ("previous", "custom")


def pick_comparison(window: Window, container) -> Window | None:
    """Period B: the same length just before period A, or dates of one's own; None when not comparing."""
    if not container.toggle(t("compare_periods"), key="insights_compare"):
        return None
    previous = window.before()
    options = list(COMPARE_WITH) if previous is not None else [COMPARE_WITH[1]]
    mode = container.radio(
        t("compare_with"),
        options,
        format_func=labels(options, lambda m: t(f"compare_with_{m}")),
        key="insights_compare_with",
        horizontal=True,
    )
    if mode == "previous" and previous is not None:
        return previous
    today = datetime.now(UTC).date()
    fallback = (today - timedelta(days=59), today - timedelta(days=30))
    value = date_range_input(container, t("period_b"), fallback, "insights_period_b")
    return days(*range_value(value, fallback))


def headline(now: dict[str, float], before: dict[str, float] | None) -> None:
    def delta(key: str, fmt: str) -> str | None:
        if before is None:
            return None
        change = now[key] - before[key]
        if fmt == "count":
            return number(change, signed=True)
        return points(change) if fmt == "pts" else net(change)

    cols = st.columns(4)
    cols[0].metric(t("mentions"), number(now["total"]), delta("total", "count"))
    cols[1].metric(
        t("negative_share"),
        percent(now["negative_share"]),
        delta("negative_share", "pts"),
        delta_color="inverse",
    )
    cols[2].metric(t("net_sentiment"), net(now["net"]), delta("net", "net"), help=t("net_sentiment_help"))
    cols[3].metric(
        t("linked_customers"),
        number(now["customers"]),
        delta("customers", "count"),
        help=t("linked_customers_help"),
    )


def insights(index: Index) -> None:
    st.title(t("insights_title"))
    left, right = st.columns([1, 2])
    window = window_picker("insights_period", default="30d", container=left, label=t("period_a"))
    other = pick_comparison(window, right)
    flt = MentionFilter(since=window.since, until=window.until)
    interval = interval_for(window.since, window.until)
    period = insights_of(index, flt, interval)
    found = period.overview
    now = summary(found)
    if not now["total"]:
        st.info(t("insights_empty"))
        return
    compared = (
        overview_of(index, MentionFilter(since=other.since, until=other.until), INSIGHT_FIELDS)
        if other
        else None
    )
    before = summary(compared) if compared else None
    headline(now, before)
    if other is not None and before is not None:
        st.caption(
            t(
                "compared_periods",
                a=window.label,
                a_total=number(now["total"]),
                b=other.label,
                b_total=number(before["total"]),
            )
        )

    st.subheader(t("sentiment_over_time"))
    st.caption(t("times_in_zone", zone=index.settings.timezone))
    buckets = found.over_time
    spikes = find_spikes(buckets, window=SPIKE_WINDOW)
    chart = sentiment_chart(buckets, spikes, interval)
    if chart is not None:
        draw_chart(chart)
    download(over_time_frame(buckets), f"sentiment-{window.slug}.csv", "insights_csv_over_time")
    for position, spike in enumerate(spikes):
        line = "spike_line_hour" if interval == "hour" else "spike_line"
        st.caption(
            t(line, day=bucket_label(spike.start, interval), volume=number(spike.volume),
              ratio=number(spike.ratio, 1), baseline=number(spike.baseline, 1))
        )  # fmt: skip
        explain(index, spike, buckets, interval, position)
    st.caption(t("sentiment_totals"))
    cols = st.columns(len(SENTIMENTS))
    for col, sentiment in zip(cols, SENTIMENTS, strict=True):
        col.metric(t(sentiment), number(now[sentiment]))

    titles = {
        "source": t("by_source"),
        "language": t("by_language"),
        "intent.label": t("by_intent"),
        "topics": t("share_of_voice"),
        "entities.text": t("top_entities"),
        "hashtags": t("top_hashtags"),
    }
    tables = {title: found.counts[field] for field, title in titles.items()}
    tables[titles["intent.label"]] = {intent_text(k): n for k, n in found.counts["intent.label"].items()}
    voice = period.share_of_voice
    share_of_voice_section(voice, index.settings.brand.name, interval)
    left, right = st.columns(2)
    shown = [(title, counts) for title, counts in tables.items() if title != t("share_of_voice")]
    for i, (title, counts) in enumerate(shown):
        with left if i % 2 == 0 else right:
            small_bars(title, counts)

    compare = (
        comparison_frame(found, compared, titles, {"intent.label": intent_text})
        if other is not None and compared
        else None
    )
    if compare is not None and other is not None:
        st.subheader(t("comparison_title", a=window.label, b=other.label))
        st.dataframe(
            compare.rename(
                columns={
                    "dimension": t("dimension"),
                    "value": t("value"),
                    "period_a": t("period_a"),
                    "period_b": t("period_b"),
                    "change": t("change"),
                }
            ),
            hide_index=True,
            width="stretch",
        )
        download(compare, f"comparison-{window.slug}-vs-{other.slug}.csv", "insights_csv_compare")

    st.subheader(t("top_authors"))
    authors = period.authors
    if authors:
        frame = pd.DataFrame(
            [
                {
                    t("author"): a.handle,
                    t("name"): a.display_name or "",
                    t("followers_column"): a.followers,
                    t("mentions"): a.mentions,
                    t("negative"): a.negative,
                }
                for a in authors
            ]
        )
        st.dataframe(frame, hide_index=True, width="stretch")
        download(frame, f"authors-{window.slug}.csv", "insights_csv_authors")
    else:
        st.caption(t("insights_empty"))

    st.subheader(t("export"))
    dims = pd.concat(
        [counts_frame(c, "value").assign(dimension=title) for title, c in tables.items()], ignore_index=True
    )[["dimension", "value", "mentions"]]
    metrics = {
        t("mentions"): number(now["total"]),
        t("negative_share"): percent(now["negative_share"]),
        t("net_sentiment"): net(now["net"]),
        t("linked_customers"): number(now["customers"]),
    }
    if other is not None and before is not None:
        metrics[t("compared_with_period", b=other.label)] = plural(
            "compared_with_values",
            before["total"],
            negative=percent(before["negative_share"]),
            net=net(before["net"]),
        )
    report = Report(
        brand=index.settings.brand.name,
        period=window.label,
        metrics=metrics,
        tables=tables,
        spikes=spikes,
        authors=authors,
        charts={
            t("sentiment_over_time"): svg_sentiment_chart(buckets, interval),
            t("sov_title"): svg_share_chart({b.brand: b.share for b in voice.brands}),
        },
        timezone=index.settings.timezone,
    )
    left, right = st.columns(2)
    left.download_button(
        t("export_csv"),
        csv_bytes(dims),
        file_name=f"insights-{window.slug}.csv",
        mime="text/csv",
        key="insights_csv",
    )
    right.download_button(
        t("export_report"),
        html_report(report).encode("utf-8"),
        file_name=f"report-{window.slug}.html",
        mime="text/html",
        key="insights_report",
        help=t("export_report_help"),
    )


def spike_link(explanation: SpikeExplanation) -> dict[str, str]:
    """The Inbox's URL query parameters for a spike's posts: its search and its days (UTC, as the
    Inbox's date range counts them, so the whole spike is inside)."""
    last = explanation.end - timedelta(microseconds=1)
    params = {
        "from": explanation.start.astimezone(UTC).date().isoformat(),
        "to": last.astimezone(UTC).date().isoformat(),
    }
    search = explanation.search()
    return {"q": search, **params} if search else params


def explain(index: Index, spike: Spike, buckets, interval: str, position: int) -> None:
    """What a spike is about, against the SPIKE_WINDOW buckets before it, and one click to its posts."""
    at = next(i for i, b in enumerate(buckets) if b.start == spike.start)
    end = (
        buckets[at + 1].start
        if at + 1 < len(buckets)
        else spike.start + (buckets[1].start - buckets[0].start)
    )
    explanation = explain_spike(
        index.es, index.names, spike.start, end, buckets[max(at - SPIKE_WINDOW, 0)].start
    )
    if explanation.terms:
        terms = ", ".join(f"{d.value} ({d.now} / {d.before})" for d in explanation.terms)
        st.markdown(literal(t("spike_about", terms=terms)))
    else:
        st.markdown(literal(t("spike_no_terms")))
    if explanation.hashtags:
        st.markdown(
            literal(
                t("spike_hashtags", tags=", ".join(f"#{d.value} ({d.now})" for d in explanation.hashtags))
            )
        )
    if explanation.authors:
        authors = ", ".join(f"@{h} ({n})" for h, n in explanation.authors)
        sources = ", ".join(f"{s} ({n})" for s, n in explanation.sources)
        st.markdown(literal(t("spike_by", authors=authors, sources=sources)))
    inbox = page_named("inbox")
    st.page_link(
        inbox.script,
        label=t("spike_open_inbox"),
        icon=inbox.icon,
        query_params=spike_link(explanation),
    )


def share_of_voice_section(voice: ShareOfVoice, brand: str, interval: str) -> None:
    """Each brand's share of voice in percent with its net sentiment, then the shares over time."""
    st.subheader(t("sov_title"), help=t("sov_help"))
    if not any(b.mentions for b in voice.brands):
        st.caption(t("insights_empty"))
        return
    frame = pd.DataFrame(
        [
            {
                t("sov_brand"): b.brand,
                t("mentions"): b.mentions,
                t("sov_share"): percent(b.share),
                t("sov_net"): net(b.net_sentiment),
            }
            for b in voice.brands
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    rows = [
        {"day": bucket_label(start, interval), "brand": name, "share": share}
        for start, values in voice.over_time
        for name, share in values.items()
    ]
    if rows:
        order = list(dict.fromkeys(r["day"] for r in rows))
        chart = (
            alt.Chart(pd.DataFrame(rows))
            .mark_bar()
            .encode(
                x=alt.X("day:O", title=t("hour" if interval == "hour" else "day"), sort=order),
                y=alt.Y("share:Q", stack="normalize", title=t("sov_share"), axis=alt.Axis(format="%")),
                color=alt.Color("brand:N", title=t("sov_brand")),
                tooltip=[
                    alt.Tooltip("day:O", title=t("hour" if interval == "hour" else "day")),
                    alt.Tooltip("brand:N", title=t("sov_brand")),
                    alt.Tooltip("share:Q", title=t("sov_share"), format=".0%"),
                ],
            )
            .properties(title=t("sov_over_time"))
        )
        draw_chart(chart)


def download(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """A small button that hands out the table just above as CSV."""
    st.download_button(
        t("export_view_csv"),
        csv_bytes(frame),
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        type="tertiary",
    )


require_page("insights", settings_or_stop())
index = open_index()
with shown_errors(index):
    insights(index)
