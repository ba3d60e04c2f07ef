"""The Inbox sidebar offers the choices the mentions of its own period and filters hold, counted by the
list's search, not by a pass over every mention."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from core.documents import Label
from dashboard.context import since
from dashboard.text import t
from ecoute.config import load_settings
from index.client import IndexNames
from index.mention_search import MentionFilter
from index.mentions import count_mentions, index_mentions
from tests.dashboard.test_pages import metric
from tests.factories import days_ago, make_mention


def _mentions() -> list:
    return [
        make_mention("fr-masto", source="sample", platform="mastodon", language="fr", created_at=days_ago(1)),
        make_mention("en-reddit", source="sample", platform="reddit", language="en", created_at=days_ago(2)),
        make_mention(
            "fr-spam",
            source="field-notes",
            platform="bluesky",
            language="fr",
            intent=Label(label="spam", confidence=0.9),
            topics=["Lumio", "Fibre Express"],
            created_at=days_ago(3),
        ),
        make_mention("old", source="archive-2025", platform="forum", language="de", created_at=days_ago(200)),
    ]


def test_the_sidebar_offers_what_the_filtered_mentions_hold(
    es: Elasticsearch, names: IndexNames, dashboard, settings_file
):
    index_mentions(es, names, _mentions())
    configured = sorted(s.name for s in load_settings(settings_file).sources)
    at = dashboard()  # the last 7 days by default
    week = MentionFilter(since=since("7d"))
    assert metric(at, t("inbox_total")) == "3"
    assert at.multiselect(key="inbox_source").options == sorted({*configured, "sample", "field-notes"})
    assert at.multiselect(key="inbox_platform").options == ["bluesky", "mastodon", "reddit"]
    assert at.multiselect(key="inbox_language").options == ["en", "fr"]  # German only 200 days ago
    topics = at.multiselect(key="inbox_topic").options
    assert "Fibre Express" in topics and topics.index("Fibre Express") == len(topics) - 1  # after the brands
    for platform in ["bluesky", "mastodon", "reddit", "forum"]:  # what is offered holds mentions
        held = count_mentions(es, names, MentionFilter(since=week.since, platforms=[platform]))
        assert (platform in at.multiselect(key="inbox_platform").options) == bool(held), platform

    at.multiselect(key="inbox_language").select("fr").run(timeout=30)
    assert not at.exception
    # French only: Reddit held only English, so it is no longer offered; French stays, English too
    # (choosing it as well would list the English mention)
    assert at.multiselect(key="inbox_platform").options == ["bluesky", "mastodon"]
    assert at.multiselect(key="inbox_language").options == ["en", "fr"]
    assert at.multiselect(key="inbox_language").value == ["fr"]
    assert metric(at, t("inbox_total")) == "2"

    at.selectbox(key="inbox_period").set_value("all").run(timeout=30)
    at.multiselect(key="inbox_language").set_value([]).run(timeout=30)
    assert "archive-2025" in at.multiselect(key="inbox_source").options
    assert at.multiselect(key="inbox_language").options == ["de", "en", "fr"]
