"""Insights for marketers: spikes, period comparison, reach, and what they can take away."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from dashboard.context import days
from dashboard.export import Report, comparison_frame, csv_bytes, html_report, mentions_frame, over_time_frame
from dashboard.text import STRINGS, t
from index.aggregations import Overview, SentimentBucket, find_spikes, top_authors
from index.client import IndexNames
from index.documents import Label
from index.writes import index_mentions
from tests.factories import make_mention

NOW = datetime.now(UTC).replace(microsecond=0)


def bucket(day: int, volume: int) -> SentimentBucket:
    return SentimentBucket(datetime(2026, 11, day, tzinfo=UTC), positive=0, neutral=volume, negative=0)


def test_a_day_far_above_the_week_before_is_a_spike():
    days = [bucket(d, 5) for d in range(1, 11)] + [bucket(11, 30), bucket(12, 6)]
    (spike,) = find_spikes(days)
    assert (spike.start.day, spike.volume, spike.baseline, spike.ratio) == (11, 30, 5.0, 6.0)


def test_steady_volume_small_jumps_and_a_busy_first_day_are_not_spikes():
    assert find_spikes([bucket(1, 40)] + [bucket(d, 5) for d in range(2, 12)]) == []
    assert find_spikes([bucket(d, 1) for d in range(1, 9)] + [bucket(9, 4)]) == []
    assert find_spikes([bucket(d, 20 + d % 3) for d in range(1, 20)]) == []


def posts_on_days(days_ago_counts: dict[float, int], sentiment: str = "neutral") -> list:
    return [
        make_mention(
            f"d{days}-{i}-{sentiment}",
            text=f"Lumio post {i}",
            created_at=NOW - timedelta(days=days),
            sentiment=Label(label=sentiment, confidence=0.8),
        )
        for days, count in days_ago_counts.items()
        for i in range(count)
    ]


def test_insights_marks_a_spike_on_the_chart_and_says_when(es: Elasticsearch, names: IndexNames, dashboard):
    calm = {float(d): 2 for d in range(3, 12)}
    index_mentions(es, names, posts_on_days({**calm, 1.5: 25}))
    at = dashboard("pages/insights.py")
    day = (NOW - timedelta(days=1.5)).strftime("%Y-%m-%d")
    spikes = [c.value for c in at.caption if c.value.startswith(f"Spike on {day}: 25 mentions")]
    assert len(spikes) == 1, [c.value for c in at.caption]
    assert not [c.value for c in at.caption if c.value.startswith("Spike on") and day not in c.value]


def test_comparing_with_the_previous_period_shows_the_change(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        posts_on_days({1: 3, 2: 2}, "negative") + posts_on_days({3: 5}) + posts_on_days({9: 2}, "negative"),
    )
    at = dashboard("pages/insights.py")
    at.selectbox(key="insights_period").set_value("7d").run(timeout=30)
    at.toggle(key="insights_compare").set_value(True).run(timeout=30)
    (volume,) = [m for m in at.metric if m.label == t("mentions")]
    assert (volume.value, volume.delta) == ("10", "+8")
    (negative,) = [m for m in at.metric if m.label == t("negative_share")]
    assert (negative.value, negative.delta) == ("50%", "-50%")


def test_top_authors_are_ordered_by_reach_with_their_counts(es: Elasticsearch, names: IndexNames):
    def post(native_id: str, handle: str, followers: int, sentiment: str = "neutral"):
        return make_mention(
            native_id,
            author={"handle": handle, "display_name": handle.title(), "followers": followers},
            sentiment=Label(label=sentiment, confidence=0.9),
        )

    index_mentions(
        es,
        names,
        [
            post("1", "small", 10),
            post("2", "star", 90_000, "negative"),
            post("3", "star", 90_000),
            post("4", "mid", 3_000, "negative"),
            post("5", "tiny", 1),
        ],
    )
    authors = top_authors(es, names, size=3)
    assert [(a.handle, a.followers, a.mentions, a.negative) for a in authors] == [
        ("star", 90_000, 2, 1),
        ("mid", 3_000, 1, 1),
        ("small", 10, 1, 0),
    ]


def test_the_report_escapes_everything_that_came_from_posts():
    report = Report(
        brand="Lumio",
        period="Last 7 days",
        metrics={"Mentions": "12"},
        tables={"Top hashtags": {"<script>alert(1)</script>": 3}},
    )
    page = html_report(report)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_mentions_export_has_one_row_per_mention_with_readable_labels():
    mentions = [
        make_mention(
            "a", text="Résiliation chez Lumio, « enfin »", intents=[Label(label="churn_risk", confidence=0.9)]
        ),
        make_mention("b", text="Merci !"),
    ]
    rows = list(csv.DictReader(io.StringIO(csv_bytes(mentions_frame(mentions)).decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["Résiliation chez Lumio, « enfin »", "Merci !"]
    assert rows[0]["sentiment.label"] == "neutral"
    assert rows[0]["intents"] == "churn_risk"
    assert rows[0]["author.handle"] == "someone@mastodon.example"
    assert "raw" not in rows[0] and "history" not in rows[0]


def day(days_ago: int):
    return (NOW - timedelta(days=days_ago)).date()


def test_a_window_of_whole_days_and_the_one_just_before_it():
    window = days(date(2026, 11, 30), date(2026, 11, 1))  # picked in reverse: swapped
    assert (window.since, window.until) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert (window.label, window.slug) == ("2026-11-01 → 2026-11-30", "2026-11-01_2026-11-30")
    before = window.before()
    assert (before.since, before.until) == (
        datetime(2026, 10, 2, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert before.label == "2026-10-02 → 2026-10-31"
    assert days(date(2026, 11, 5), date(2026, 11, 5)).label == "2026-11-05 → 2026-11-05"


def test_insights_on_custom_dates_count_only_those_days(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, posts_on_days({2: 3, 5: 4, 20: 6}))
    at = dashboard("pages/insights.py")
    at.selectbox(key="insights_period").set_value("custom").run(timeout=30)
    at.date_input(key="insights_period_range").set_value((day(6), day(4))).run(timeout=30)
    (volume,) = [m for m in at.metric if m.label == t("mentions")]
    assert volume.value == "4"
    csv_buttons = [b for b in at.get("download_button") if b.proto.label == t("export_view_csv")]
    assert len(csv_buttons) == 2  # sentiment over time, top authors
    assert [b.proto.label for b in at.get("download_button")][-2:] == [t("export_csv"), t("export_report")]


def test_period_a_against_dates_of_ones_own_shows_the_deltas_and_exports_them(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        posts_on_days({1: 3, 2: 2}, "negative")
        + posts_on_days({3: 5})
        + posts_on_days({20: 2}, "negative")
        + posts_on_days({21: 2}),
    )
    at = dashboard("pages/insights.py")
    at.selectbox(key="insights_period").set_value("7d").run(timeout=30)
    at.toggle(key="insights_compare").set_value(True).run(timeout=30)
    at.radio(key="insights_compare_with").set_value("custom").run(timeout=30)
    at.date_input(key="insights_period_b").set_value((day(22), day(19))).run(timeout=30)
    (volume,) = [m for m in at.metric if m.label == t("mentions")]
    assert (volume.value, volume.delta) == ("10", "+6")
    (negative,) = [m for m in at.metric if m.label == t("negative_share")]
    assert (negative.value, negative.delta) == ("50%", "+0%")
    (table,) = [d.value for d in at.dataframe if t("change") in d.value.columns]
    rows = {(r[t("dimension")], r[t("value")]): r for r in table.to_dict("records")}
    lumio = rows[(t("share_of_voice"), "Lumio")]
    assert (lumio[t("period_a")], lumio[t("period_b")], lumio[t("change")]) == (10, 4, 6)
    b_label = f"{day(22):%Y-%m-%d} → {day(19):%Y-%m-%d}"
    assert any(b_label in c.value and "4 mentions" in c.value for c in at.caption)
    csv_buttons = [b for b in at.get("download_button") if b.proto.label == t("export_view_csv")]
    assert len(csv_buttons) == 3  # sentiment over time, the comparison, top authors


def test_the_comparison_and_the_daily_numbers_export_as_csv():
    a = Overview(total=5, counts={"topics": {"Lumio": 4, "Zéphyr": 1}}, customers=0, over_time=[])
    b = Overview(total=3, counts={"topics": {"Lumio": 1, "Orbis": 2}}, customers=0, over_time=[])
    rows = list(
        csv.DictReader(
            io.StringIO(csv_bytes(comparison_frame(a, b, {"topics": "Share"})).decode("utf-8-sig"))
        )
    )
    assert [(r["value"], r["period_a"], r["period_b"], r["change"]) for r in rows] == [
        ("Lumio", "4", "1", "3"),
        ("Zéphyr", "1", "0", "1"),
        ("Orbis", "0", "2", "-2"),
    ]
    daily = [SentimentBucket(datetime(2026, 11, 3, tzinfo=UTC), positive=1, neutral=2, negative=1)]
    (row,) = list(csv.DictReader(io.StringIO(csv_bytes(over_time_frame(daily)).decode("utf-8-sig"))))
    assert row == {"day": "2026-11-03", "positive": "1", "neutral": "2", "negative": "1", "net": "0.0"}


def test_the_insights_tables_and_report_speak_french(
    es: Elasticsearch, names: IndexNames, dashboard, monkeypatch: pytest.MonkeyPatch
):
    index_mentions(es, names, posts_on_days({float(d): 2 for d in range(3, 12)} | {1.5: 25}))
    at = dashboard("pages/insights.py")
    at.session_state["language"] = "fr"
    at.run(timeout=30)
    assert not at.exception
    (authors,) = [d.value for d in at.dataframe if STRINGS["fr"]["author"] in d.value.columns]
    assert STRINGS["fr"]["followers_column"] in authors.columns  # a header, never "{n} abonnés"
    monkeypatch.setattr("dashboard.text.current_language", lambda: "fr")  # as inside a French session
    spikes = find_spikes([bucket(d, 5) for d in range(1, 11)] + [bucket(11, 30)])
    page = html_report(Report(brand="Lumio", period="7 derniers jours", metrics={}, spikes=spikes))
    assert "<h2>Pics</h2>" in page and "<th>Jour</th>" in page
