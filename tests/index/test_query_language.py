"""One search language: the Inbox, saved searches, exports and alert rules read a query the same way.

On the stand-in: OR, AND, NOT, quotes, NEAR, wildcards and field:value find what they say; a mistake is
reported where it is; "Vienne" never finds "viens"; and the Inbox finds exactly what the alert-rule
matcher (and its compiled query) finds for the same query over the same posts.
"""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from alerts.rules import compile_rule, mention_words
from alerts.settings import AlertRule
from core.documents import Label, Mention
from index.client import IndexNames
from index.mention_search import MentionFilter, mentions_matching, search_mentions
from index.mentions import count_mentions, index_mentions
from index.query_language import QuerySyntaxError, parse_query
from nlp.linking import CustomerDirectory
from tests.factories import make_mention

NEGATIVE = Label(label="negative", confidence=0.9)
POSTS = {
    "vienne": dict(text="Concert à Vienne ce soir, la fibre Lumio tient bon.", hashtags=["concert"]),
    "viens": dict(text="Je viens de résilier Lumio, la box est en panne.", sentiment=NEGATIVE),
    "panne": dict(text="Panne générale chez Lumio depuis hier soir.", source="reddit", platform="reddit"),
    "coupure": dict(text="Encore une coupure, remboursement demandé à Zéphyr.", customer_id="C-7"),
    "service": dict(text="Le service client Lumio a été rapide.", language="fr", hashtags=["lumio"]),
    "english": dict(
        text="Lumio support fixed my router, great service",
        language="en",
        author={"handle": "Jean@Masto.example", "followers": 10},
        intent=Label(label="praise", confidence=0.9),
    ),
    "near": dict(text="Lumio vraiment très très lente cette panne", title="Panne ?"),
}

QUERIES = {
    "lumio": {"vienne", "viens", "panne", "service", "english", "near"},
    "panne OR coupure": {"viens", "panne", "coupure", "near"},
    "lumio AND panne": {"viens", "panne", "near"},
    "lumio panne": {"viens", "panne", "near"},
    "lumio NOT panne": {"vienne", "service", "english"},
    "lumio AND NOT (panne OR service)": {"vienne"},
    '"service client"': {"service"},
    '"client service"': set(),
    "Vienne": {"vienne"},
    '"Vienne"': {"vienne"},
    "viens": {"viens"},
    "lumio NEAR/2 panne": {"panne"},  # "générale chez": 2 words between
    "lumio NEAR/4 panne": {"panne", "viens"},  # "la box est en": 4
    "panne NEAR/5 lumio": {"panne", "viens", "near"},  # "vraiment très très lente cette": 5
    "rembours*": {"coupure"},
    "r*boursement": {"coupure"},
    "source:reddit": {"panne"},
    "lang:en": {"english"},
    "author:jean@masto.example": {"english"},
    "author:@JEAN*": {"english"},
    "sentiment:negative": {"viens"},
    "intent:praise": {"english"},
    "customer:C-7": {"coupure"},
    "hashtag:#Lumio": {"service"},
    "hashtag:lumio OR source:reddit": {"service", "panne"},
    "lumio NOT lang:en NOT sentiment:negative": {"vienne", "panne", "service", "near"},
}


@pytest.fixture
def posts(es: Elasticsearch, names: IndexNames) -> list[Mention]:
    mentions = [make_mention(name, **fields) for name, fields in POSTS.items()]
    index_mentions(es, names, mentions)
    return mentions


def inbox(es: Elasticsearch, names: IndexNames, query: str) -> set[str]:
    page = search_mentions(es, names, MentionFilter(query=query), size=100)
    return {h.mention.native_id for h in page.hits}


@pytest.mark.parametrize("query", QUERIES)
def test_the_inbox_finds_what_the_query_says(
    es: Elasticsearch, names: IndexNames, posts: list[Mention], query: str
):
    assert inbox(es, names, query) == QUERIES[query]
    assert count_mentions(es, names, MentionFilter(query=query)) == len(QUERIES[query])


def test_the_inbox_and_the_alert_rule_matcher_agree_on_every_query(
    es: Elasticsearch, names: IndexNames, posts: list[Mention]
):
    directory = CustomerDirectory()
    for query in QUERIES:
        compiled = compile_rule(AlertRule(name="q", query=query))
        portable = {m.native_id for m in posts if compiled.matches(m, directory, mention_words(m))}
        _, found = mentions_matching(es, names, compiled.to_dsl(directory), size=100)
        assert inbox(es, names, query) == portable == {m.native_id for m in found}, query


def test_vienne_is_not_viens_even_where_a_stemmer_would_join_them(
    es: Elasticsearch, names: IndexNames, posts: list[Mention]
):
    # The French analyzer reduces both to "vien": the search must not read stemmed words.
    stemmed = es.indices.analyze(analyzer="french", text="Vienne viens")
    assert len({t["token"] for t in stemmed["tokens"]}) == 1
    assert inbox(es, names, "Vienne") == {"vienne"}
    assert inbox(es, names, "viens") == {"viens"}


@pytest.mark.parametrize(
    ("query", "position", "code"),
    [
        ('lumio "panne', 6, "unclosed_quote"),
        ("((lumio", 1, "unclosed_paren"),
        ("lumio)", 5, "unopened_paren"),
        ("lumio AND", 9, "ends_early"),
        ("OR lumio", 0, "expected"),
        ("a* panne", 0, "short_prefix"),
        ("*x", 0, "short_wildcard"),
        ("lumio sentiment:angry", 6, "sentiment_value"),
        ("author: lumio", 0, "field_value"),
        ("lumio NEAR/99 panne", 11, "near_distance"),
    ],
)
def test_a_bad_search_is_an_error_at_its_position_not_zero_or_everything(
    es: Elasticsearch, names: IndexNames, posts: list[Mention], query: str, position: int, code: str
):
    with pytest.raises(QuerySyntaxError) as caught:
        search_mentions(es, names, MentionFilter(query=query))
    assert (caught.value.position, caught.value.code) == (position, code)
    with pytest.raises(ValueError, match=f"at character {position + 1} "):
        AlertRule(name="same", query=query)  # the rule language refuses it at the same place


def test_field_value_and_wildcards_parse_into_their_own_nodes():
    from index.query_language import FieldValue, Wildcard, describe

    assert parse_query("author:@Jean*") == FieldValue("author", "jean", True, 0)
    assert parse_query('customer:"C 7"') == FieldValue("customer", "c 7", False, 0)
    assert parse_query("r**ment") == Wildcard("r*ment", 0)
    assert describe(parse_query('lumio hashtag:#Panne customer:"C 7"')) == (
        'lumio AND hashtag:panne AND customer:"c 7"'
    )
    assert describe(parse_query("http://lumio.example")) != ""  # an unknown name: just words
