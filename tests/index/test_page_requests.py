"""What a dashboard page reads, in as few requests as it can: each request costs the embedded stand-in a
pass over every mention of the indices it names. The Inbox's list and its sidebar's counts (those of the
filtered set) come from one search, the customer view's figures and list from one, Insights' figures of a
period from one (and one for its authors' counts)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from elasticsearch import Elasticsearch

from core.documents import Label, Mention
from index.aggregations import (
    INSIGHT_FIELDS,
    overview,
    overview_and_mentions,
    period_insights,
    share_of_voice,
    top_authors,
)
from index.client import IndexNames
from index.mention_search import FACET_CHOICES, MentionFilter, search_mentions
from index.mentions import count_collected_since, count_mentions, index_mentions
from tests.factories import days_ago, make_mention

FACETS = tuple(FACET_CHOICES)
VALUES = ["rss", "reddit-lumio", "mastodon", "reddit", "fr", "en", "complaint", "praise", "question"]
VALUES += ["negative", "neutral", "positive", "Lumio", "Zéphyr Télécom"]


def _mixed_mentions() -> list:
    """Mentions of every combination of two sources, two platforms, two languages, three intents, spread
    over 40 days, so that any filter keeps some and leaves some."""
    mentions = []
    combos = itertools.product(
        ["rss", "reddit-lumio"], ["mastodon", "reddit"], ["fr", "en"], ["complaint", "praise", "question"]
    )
    for i, (source, platform, language, intent) in enumerate(combos):
        mentions.append(
            make_mention(
                f"m{i}",
                source=source,
                platform=platform,
                language=language,
                intent=Label(label=intent, confidence=0.9),
                sentiment=Label(label=["negative", "neutral", "positive"][i % 3], confidence=0.9),
                topics=["Lumio", "Zéphyr Télécom"][: 1 + i % 2],
                created_at=days_ago(i * 40 / 24),
            )
        )
    return mentions


def test_each_choice_counts_the_mentions_choosing_it_would_list(es: Elasticsearch, names: IndexNames):
    """Each count is what the list would hold with that value chosen for its field, the other filters
    (period, search, other fields' choices) kept; checked against the index's own count."""
    index_mentions(es, names, _mixed_mentions())
    filters = [
        MentionFilter(since=days_ago(7)),
        MentionFilter(since=days_ago(30), languages=["fr"]),
        MentionFilter(since=days_ago(30), sources=["rss"], intents=["complaint", "praise"]),
        MentionFilter(query="box", platforms=["reddit"], sentiments=["negative"]),
    ]
    for flt in filters:
        page = search_mentions(es, names, flt, size=5, order="attention", facets=FACETS)
        assert page.total == count_mentions(es, names, flt)
        assert len(page.hits) == min(5, page.total)
        for facet in FACETS:
            held = page.facets[facet]
            assert held.complete
            for value in VALUES:
                alone = replace(flt, **{FACET_CHOICES[facet]: [value]})
                assert held.count(value) == count_mentions(es, names, alone), (flt, facet, value)


def test_counts_cover_only_the_period_the_list_reads(es: Elasticsearch, names: IndexNames):
    """A source seen only long ago is not counted in the last 7 days, so the sidebar never offers it
    from a pass over every mention."""
    index_mentions(
        es,
        names,
        [
            make_mention("old", source="lumio-news", created_at=days_ago(200)),
            make_mention("new", source="sample", created_at=days_ago(1)),
        ],
    )
    week = search_mentions(es, names, MentionFilter(since=days_ago(7)), facets=("source",))
    assert week.facets["source"].counts == {"sample": 1}
    assert week.facets["source"].count("lumio-news") == 0
    ever = search_mentions(es, names, MentionFilter(), facets=("source",))
    assert ever.facets["source"].counts == {"lumio-news": 1, "sample": 1}


def test_chosen_values_narrow_the_list_but_not_their_own_field(es: Elasticsearch, names: IndexNames):
    """Choosing rss lists rss only, yet still counts reddit-lumio: what choosing it as well would add."""
    index_mentions(es, names, _mixed_mentions())
    page = search_mentions(es, names, MentionFilter(sources=["rss"]), size=100, facets=FACETS)
    assert {h.mention.source for h in page.hits} == {"rss"}
    assert page.total == 12
    assert page.facets["source"].counts == {"rss": 12, "reddit-lumio": 12}
    assert page.facets["language"].counts == {"fr": 6, "en": 6}


def test_an_unknown_facet_is_one_clear_error(es: Elasticsearch, names: IndexNames):
    with pytest.raises(ValueError, match="unknown facet 'author.handle'"):
        search_mentions(es, names, MentionFilter(), facets=("author.handle",))


def test_a_customers_figures_and_list_from_one_request_are_those_of_two(es: Elasticsearch, names: IndexNames):
    """The customer view's overview (counts, intents, weekly trend) and its newest mentions come back from
    one request, equal to what `overview` and `search_mentions` answer apart."""
    mentions = _mixed_mentions()
    mentions = [
        m.model_copy(update={"customer_id": "C-1001" if i % 3 else "C-1002"}) for i, m in enumerate(mentions)
    ]
    index_mentions(es, names, mentions)
    flt = MentionFilter(customer_id="C-1001", since=days_ago(30))
    fields = ("sentiment.label", "intent.label")
    found, page = overview_and_mentions(es, names, flt, 5, fields, interval="week", tz="Europe/Paris")
    assert found == overview(es, names, flt, fields, interval="week", tz="Europe/Paris")
    listed = search_mentions(es, names, flt, size=5)
    assert page.total == listed.total == found.total == count_mentions(es, names, flt)
    assert [h.mention.id for h in page.hits] == [h.mention.id for h in listed.hits]
    assert {h.mention.customer_id for h in page.hits} == {"C-1001"}


BRANDS = ["Lumio", "Zéphyr Télécom", "Arcadia Mobile"]


def test_insights_of_a_period_from_two_requests_are_those_of_four(es: Elasticsearch, names: IndexNames):
    """Overview, share of voice and authors of widest reach of the last 30 days, read together, equal
    what `overview`, `share_of_voice` and `top_authors` answer apart."""
    mentions = _mixed_mentions()
    mentions = [
        Mention.model_validate(
            {
                **m.model_dump(),
                "author": {"handle": f"author{i % 7}", "display_name": f"A {i % 7}", "followers": 10 * i},
                "created_at": days_ago(i * 60 / 24),
            }
        )
        for i, m in enumerate(mentions)
    ]
    index_mentions(es, names, mentions)
    period = MentionFilter(since=days_ago(30))
    tz = "Europe/Paris"
    found = period_insights(es, names, period, BRANDS, interval="day", tz=tz)
    assert found.overview == overview(es, names, period, INSIGHT_FIELDS, interval="day", tz=tz)
    assert 0 < found.overview.total < len(mentions)
    assert found.share_of_voice == share_of_voice(es, names, BRANDS, period, interval="day", tz=tz)
    assert found.authors == top_authors(es, names, period)
    assert [a.followers for a in found.authors] == sorted((a.followers for a in found.authors), reverse=True)


def test_new_mentions_are_counted_in_the_period_indices_whatever_their_posts_age(
    es: Elasticsearch, names: IndexNames
):
    """The Inbox's "N new" reads only its period's indices, yet counts a post of 40 days ago collected
    just now (it lies in an older period's index) as well as today's."""
    drawn_at = days_ago(0.5)
    index_mentions(
        es,
        names,
        [
            make_mention("seen", created_at=days_ago(2), collected_at=days_ago(1)),
            make_mention("today", created_at=days_ago(0.2), collected_at=days_ago(0.1)),
            make_mention("late", created_at=days_ago(40), collected_at=days_ago(0.1)),
            make_mention("too-old", created_at=days_ago(200), collected_at=days_ago(0.1)),
        ],
    )
    assert count_collected_since(es, names, MentionFilter(since=days_ago(90)), drawn_at) == 2
    assert count_collected_since(es, names, MentionFilter(since=days_ago(7)), drawn_at) == 1
    assert count_collected_since(es, names, MentionFilter(), drawn_at) == 3
