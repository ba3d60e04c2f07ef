"""Inbox: saved searches per person, and a reply shown with the post it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from core.documents import Label
from dashboard.text import t
from index.client import IndexNames
from index.mentions import index_mentions
from tests.dashboard.test_pages import mention, metric, texts
from tests.factories import make_mention

CM = "community@lumio.example"


def seed(es: Elasticsearch, names: IndexNames) -> None:
    index_mentions(
        es,
        names,
        [
            mention("a", "Panne Lumio depuis lundi.", hours=1, sentiment="negative"),
            mention("b", "Merci Lumio pour la fibre !", hours=2, sentiment="positive"),
            mention("c", "Encore une coupure Lumio.", hours=3, sentiment="negative"),
        ],
    )


def test_a_saved_search_brings_its_filters_back(es: Elasticsearch, names: IndexNames, dashboard):
    seed(es, names)
    at = dashboard()
    at.sidebar.multiselect(key="inbox_sentiment").set_value(["negative"]).run(timeout=30)
    at.sidebar.text_input(key="inbox_saved_name").input("Pannes").run(timeout=30)
    at.sidebar.button(key="inbox_save_search").click().run(timeout=30)
    assert t("saved_search_saved", name="Pannes") in [s.value for s in at.sidebar.success]

    later = dashboard()  # a new browser session of the same person: no filter yet
    assert metric(later, t("inbox_total")) == "3"
    saved = later.sidebar.selectbox(key="inbox_saved")
    (choice,) = [o for o in saved.options if o != t("saved_none")]
    assert choice == "Pannes"
    later.sidebar.selectbox(key="inbox_saved").select("Pannes").run(timeout=30)
    assert texts(later) == ["Panne Lumio depuis lundi.", "Encore une coupure Lumio."]
    assert later.sidebar.multiselect(key="inbox_sentiment").value == ["negative"]


def test_saved_searches_belong_to_the_person_who_saved_them(es: Elasticsearch, names: IndexNames, dashboard):
    seed(es, names)
    at = dashboard()
    at.sidebar.text_input(key="inbox_saved_name").input("Mine").run(timeout=30)
    at.sidebar.button(key="inbox_save_search").click().run(timeout=30)
    other = dashboard(as_user=CM)
    assert other.sidebar.selectbox(key="inbox_saved").options == [t("saved_none")]


def test_a_reply_shows_the_post_it_answers(es: Elasticsearch, names: IndexNames, dashboard):
    original = make_mention("root", text="Lumio, ma box clignote rouge depuis ce matin.")
    reply = make_mention(
        "reply",
        text="Pareil chez moi à Lyon.",
        thread={"parent_id": "root", "root_id": "root"},
        sentiment=Label(label="negative", confidence=0.7),
    )
    index_mentions(es, names, [original, reply])
    at = dashboard()
    shown = texts(at)
    assert "↳ Lumio, ma box clignote rouge depuis ce matin." in shown
    assert shown.index("↳ Lumio, ma box clignote rouge depuis ce matin.") < shown.index(
        "Pareil chez moi à Lyon."
    )


def test_the_inbox_narrows_to_custom_dates_and_a_saved_search_keeps_them(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        [
            mention("today", "Lumio aujourd'hui.", hours=1),
            mention("last-week", "Lumio la semaine dernière.", hours=24 * 8),
            mention("last-month", "Lumio le mois dernier.", hours=24 * 40),
        ],
    )
    at = dashboard()
    today = datetime.now(UTC).date()
    at.sidebar.selectbox(key="inbox_period").set_value("custom").run(timeout=30)
    at.sidebar.date_input(key="inbox_period_range").set_value(
        (today - timedelta(days=10), today - timedelta(days=5))
    ).run(timeout=30)
    assert texts(at) == ["Lumio la semaine dernière."]
    at.sidebar.text_input(key="inbox_saved_name").input("Semaine 47").run(timeout=30)
    at.sidebar.button(key="inbox_save_search").click().run(timeout=30)

    later = dashboard()
    assert metric(later, t("inbox_total")) == "1"  # a new session opens on the last 7 days
    later.sidebar.selectbox(key="inbox_saved").select("Semaine 47").run(timeout=30)
    assert texts(later) == ["Lumio la semaine dernière."]
    assert not later.warning and not later.exception, [w.value for w in [*later.warning, *later.exception]]
    assert later.sidebar.date_input(key="inbox_period_range").value == (
        today - timedelta(days=10),
        today - timedelta(days=5),
    )
