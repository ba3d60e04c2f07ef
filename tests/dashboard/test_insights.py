"""Insights for marketers: spikes, period comparison, reach, and what they can take away."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from elasticsearch import Elasticsearch

from core.documents import Label
from dashboard.context import days
from dashboard.export import (
    Report,
    comparison_frame,
    csv_bytes,
    html_report,
    mentions_frame,
    over_time_frame,
    svg_sentiment_chart,
    svg_share_chart,
)
from dashboard.text import STRINGS, t
from index.aggregations import (
    Overview,
    SentimentBucket,
    explain_spike,
    find_spikes,
    interval_for,
    overview,
    share_of_voice,
    top_authors,
)
from index.client import IndexNames
from index.mention_search import MentionFilter
from index.mentions import index_mentions
from tests.dashboard.helpers import downloads
from tests.dashboard.test_pages import unescaped
from tests.factories import make_mention

NOW = datetime.now(UTC).replace(microsecond=0)
PARIS = ZoneInfo("Europe/Paris")


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
    day = (NOW - timedelta(days=1.5)).astimezone(PARIS).strftime("%Y-%m-%d")  # config.yaml's zone
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
    assert (negative.value, negative.delta) == ("50%", "-50 pts")  # a change of a share is in points


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
    assert (negative.value, negative.delta) == ("50%", "+0 pts")
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


CALM = [
    "La fibre Lumio marche bien chez moi",
    "Question sur mon forfait Lumio mobile",
    "Le service client Lumio a répondu vite",
    "Nouvelle box Lumio installée hier",
    "Lumio propose une offre intéressante",
]
OUTAGE = [
    "Coupure totale de la fibre Lumio à Lyon #pannelumio",
    "Encore une coupure Lumio, plus rien ne marche #pannelumio",
    "Lumio coupure internet depuis ce matin, c'est quand le retour ?",
    "La coupure Lumio dure depuis des heures #pannelumio",
    "Coupure générale chez Lumio, le support ne répond pas",
]


def outage_posts() -> list:
    """A calm week of varied posts, then a day of outage posts: the spike is about "coupure"."""
    calm = [
        make_mention(
            f"calm-{d}-{i}",
            text=CALM[(d + i) % len(CALM)],
            created_at=NOW - timedelta(days=d, hours=i),
            author={"handle": f"user{i}@mastodon.example", "followers": 50},
        )
        for d in range(3, 12)
        for i in range(2)
    ]
    outage = [
        make_mention(
            f"outage-{i}",
            text=OUTAGE[i % len(OUTAGE)],
            hashtags=["pannelumio"] if "#pannelumio" in OUTAGE[i % len(OUTAGE)] else [],
            created_at=NOW - timedelta(days=1.5, minutes=i),
            source="reddit" if i % 3 == 0 else "test",
            author={"handle": "angry@mastodon.example" if i % 2 else f"fan{i}@x.example", "followers": 9},
        )
        for i in range(25)
    ]
    return calm + outage


def test_a_spike_is_explained_by_the_word_that_drove_it(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, outage_posts())
    start = datetime.combine((NOW - timedelta(days=1.5)).astimezone(PARIS).date(), datetime.min.time(), PARIS)
    found = explain_spike(es, names, start, start + timedelta(days=1), start - timedelta(days=7))
    assert found.posts == 25
    assert found.terms[0].value == "coupure"
    assert (found.terms[0].now, found.terms[0].before) == (25, 0)
    assert not {"les", "des", "the", "chez", "depuis"} & {d.value for d in found.terms}  # stop words
    assert "lumio" not in {d.value for d in found.terms}  # as frequent before: not distinctive
    assert [d.value for d in found.hashtags] == ["pannelumio"]
    assert found.authors[0] == ("angry@mastodon.example", 12)
    assert found.search().startswith("coupure OR ")


def test_the_spike_links_to_its_posts_in_the_inbox(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, outage_posts())
    at = dashboard("pages/insights.py")
    assert not at.exception
    (about,) = [m for m in map(unescaped, (m.value for m in at.markdown)) if "coupure (25 / 0)" in m]
    (link,) = [e for e in at.get("page_link") if e.proto.label == t("spike_open_inbox")]
    params = dict(parse_qsl(link.proto.query_string))
    assert params["q"].startswith("coupure OR ")
    assert params["from"] <= (NOW - timedelta(days=1.5)).date().isoformat() <= params["to"]

    inbox = dashboard("pages/inbox.py", **params)
    assert not inbox.exception and not inbox.warning
    assert inbox.text_input(key="inbox_query").value == params["q"]
    (total,) = [m.value for m in inbox.metric if m.label == t("inbox_total")]
    assert total == "25"  # the outage posts, none of the calm ones


def test_share_of_voice_is_in_percent_and_sums_to_100(es: Elasticsearch, names: IndexNames, dashboard):
    negative, positive = Label(label="negative", confidence=0.9), Label(label="positive", confidence=0.9)
    posts = (
        [make_mention(f"l{i}", topics=["Lumio"], sentiment=positive if i < 4 else negative) for i in range(6)]
        + [make_mention(f"z{i}", topics=["Zéphyr Télécom"], sentiment=negative) for i in range(3)]
        + [make_mention("a0", topics=["Arcadia Mobile"])]
    )
    index_mentions(es, names, posts)
    voice = share_of_voice(es, names, ["Lumio", "Zéphyr Télécom", "Arcadia Mobile"], tz="Europe/Paris")
    assert [(b.brand, b.mentions, round(b.share, 2)) for b in voice.brands] == [
        ("Lumio", 6, 0.6),
        ("Zéphyr Télécom", 3, 0.3),
        ("Arcadia Mobile", 1, 0.1),
    ]
    assert sum(b.share for b in voice.brands) == pytest.approx(1.0)
    assert [round(b.net_sentiment, 2) for b in voice.brands] == [0.33, -1.0, 0.0]
    assert all(sum(values.values()) == pytest.approx(1.0) for _, values in voice.over_time)

    at = dashboard("pages/insights.py")
    (table,) = [d.value for d in at.dataframe if t("sov_share") in d.value.columns]
    shares = [int(v.rstrip("%")) for v in table[t("sov_share")]]
    assert shares == [60, 30, 10] and sum(shares) == 100
    assert list(table[t("sov_net")]) == ["+0.33", "-1.00", "+0.00"]


def test_days_are_cut_at_midnight_in_the_configured_zone(es: Elasticsearch, names: IndexNames):
    late = [  # 23:30 and 22:30 UTC on 10 March: 00:30 on the 11th and 23:30 on the 10th in Paris
        make_mention("late", created_at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC)),
        make_mention("evening", created_at=datetime(2026, 3, 10, 22, 30, tzinfo=UTC)),
        # across the spring change of clocks (29 March, 02:00 → 03:00): still one day, from 22:00 UTC
        make_mention("dst", created_at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),
    ]
    index_mentions(es, names, late)
    paris = overview(es, names, interval="day", tz="Europe/Paris").over_time
    counts = {b.start.isoformat(): b.total for b in paris if b.total}
    assert counts == {
        "2026-03-10T00:00:00+01:00": 1,
        "2026-03-11T00:00:00+01:00": 1,
        "2026-03-30T00:00:00+02:00": 1,
    }
    assert len(paris) == 21  # every day between, empty ones included
    utc = overview(es, names, interval="day", tz="UTC").over_time
    assert {b.start.isoformat(): b.total for b in utc if b.total}["2026-03-10T00:00:00+00:00"] == 2


def test_a_one_day_range_draws_hourly_bars(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, posts_on_days({0.1: 2, 0.5: 3}))
    window = days(NOW.date(), NOW.date())
    assert interval_for(window.since, window.until) == "hour"
    week = days(NOW.date() - timedelta(days=6), NOW.date())
    assert interval_for(week.since, week.until) == "day"
    found = overview(es, names, MentionFilter(since=window.since, until=window.until), interval="hour")
    assert len(found.over_time) >= 24
    assert all(b.start.minute == 0 for b in found.over_time)


def test_the_report_carries_its_charts_inline_without_scripts():
    buckets = [bucket(d, 5) for d in range(1, 8)]
    report = Report(
        brand="Lumio",
        period="Last 7 days",
        metrics={"Mentions": "35"},
        charts={
            "Sentiment over time": svg_sentiment_chart(buckets),
            "Share of voice": svg_share_chart({"Lumio": 0.6, "<b>Zéphyr</b>": 0.4}),
        },
        timezone="Europe/Paris",
    )
    page = html_report(report)
    assert page.count("<svg") == 2
    assert page.count("<rect") == 7 + 2
    assert "60%" in page and "&lt;b&gt;Zéphyr&lt;/b&gt;" in page
    assert "<script" not in page.lower() and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "Europe/Paris" in page


def test_the_insights_report_download_holds_the_charts(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    index_mentions(es, names, posts_on_days({1: 3, 2: 4}))
    at = dashboard("pages/insights.py")
    page = downloads(at)[t("export_report")].decode("utf-8")
    assert page.count("<svg") == 2 and "<rect" in page
