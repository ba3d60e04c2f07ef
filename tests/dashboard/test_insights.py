"""Insights for marketers: spikes, period comparison, reach, and what they can take away."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from dashboard.export import Report, csv_bytes, html_report, mentions_frame
from dashboard.text import t
from index.aggregations import SentimentBucket, find_spikes, top_authors
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
