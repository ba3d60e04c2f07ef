"""Hostile searches are refused before they reach the index, which stays alive and answering.

The stand-in here is this module's own, so that a search that did crash it (as a 10,800-character one
did) fails these tests without taking the session's shared stand-in down with it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from alerts.query import QuerySyntaxError, parse_query
from core.config import ElasticsearchConfig
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.customers import search_customers, upsert_customers
from index.mention_search import MentionFilter, search_mentions
from index.mentions import count_mentions, index_mentions
from index.schema import ensure_indices
from index.search_bounds import (
    INBOX_SEARCH,
    SearchTooComplexError,
    parse_search,
    search_size,
)
from tests.factories import make_customer, make_mention

WORDS = ["box", "panne", "fibre", "réseau", "forfait", "facture", "support", "coupure", "lent", "mobile"]

HOSTILE = {
    # what the attack sent: 10,800 characters, and 900 characters of OR'ed words
    "10,800 characters": ("lumio panne " * 900)[:10_799] + "!",
    "900 characters of OR": " OR ".join(WORDS[i % len(WORDS)] for i in range(200))[:900],
    "500 nested parentheses": "(" * 500 + "box" + ")" * 500,
    "many wildcards": " OR ".join(f"{w[:2]}*" for w in WORDS * 20),
    # each bound on its own, within the length limit
    "20 OR'ed words": " OR ".join(WORDS * 2),
    "9 words of one phrase": '"la box est en panne depuis hier soir encore"',
    "emoji": "😀" * 20,
    "3 wildcards": "bo* pa* fi*",
    "3 wild*cards": "b*x p*nne f*bre",
    "2 wildcards and a field prefix": "bo* pa* author:jean*",
    "deep parentheses": "((((box))))",
}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tmp_path_factory.mktemp("search-bounds-es"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loaded(own_server: EmbeddedServer) -> tuple[Elasticsearch, IndexNames]:
    es = connect(own_server.url, ElasticsearchConfig())
    names = IndexNames("bounds")
    ensure_indices(es, names)
    index_mentions(
        es,
        names,
        [
            make_mention(f"m{i}", text=f"La {WORDS[i % 10]} Lumio, {WORDS[(i + 3) % 10]} à Lyon")
            for i in range(40)
        ],
    )
    upsert_customers(es, names, [make_customer("C-1")])
    return es, names


@pytest.mark.parametrize("search", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_search_is_refused_with_one_line_and_the_index_keeps_answering(
    loaded: tuple[Elasticsearch, IndexNames], own_server: EmbeddedServer, search: str
):
    es, names = loaded
    flt = MentionFilter(query=search)
    for ask in (
        lambda: search_mentions(es, names, flt),
        lambda: search_mentions(es, names, flt, order="attention"),
        lambda: count_mentions(es, names, flt),
    ):
        with pytest.raises(SearchTooComplexError) as refused:
            ask()
        assert "\n" not in str(refused.value)
        assert str(refused.value).startswith("search too complex: ")
    assert own_server.answers()
    assert search_mentions(es, names, MentionFilter(query="panne")).total == 8


@pytest.mark.parametrize(
    "name", ["10,800 characters", "900 characters of OR", "500 nested parentheses", "20 OR'ed words"]
)
def test_a_hostile_customer_search_is_refused_and_an_address_is_not(
    loaded: tuple[Elasticsearch, IndexNames], own_server: EmbeddedServer, name: str
):
    es, names = loaded
    with pytest.raises(SearchTooComplexError):
        search_customers(es, names, HOSTILE[name])
    assert own_server.answers()
    assert search_customers(es, names, "jean-pierre.dupont@mastodon.example") == []
    assert [c.customer_id for c in search_customers(es, names, "c-1@client.example")] == ["C-1"]


def test_the_bound_named_is_the_one_a_search_is_over():
    reasons = {}
    for name, search in HOSTILE.items():
        with pytest.raises(SearchTooComplexError) as refused:
            parse_search(search)
        reasons[name] = refused.value.bound
    assert reasons == {
        "10,800 characters": "chars",
        "900 characters of OR": "chars",
        "500 nested parentheses": "chars",
        "many wildcards": "chars",
        "20 OR'ed words": "terms",
        "9 words of one phrase": "terms",
        "emoji": "terms",
        "3 wildcards": "wildcards",
        "3 wild*cards": "wildcards",
        "2 wildcards and a field prefix": "wildcards",
        "deep parentheses": "depth",
    }
    assert str(SearchTooComplexError("chars", 10_800, 200)) == (
        "search too complex: 10,800 characters, at most 200; shorten it"
    )


def test_searches_people_type_are_accepted_and_answered(loaded: tuple[Elasticsearch, IndexNames]):
    es, names = loaded
    for search in (
        "panne",
        '"box lumio" NOT réseau',
        "(panne OR coupure) lyon fibre",
        "rés* OR fac*",
        " ".join(WORDS[: INBOX_SEARCH.terms]),
        "l'offre fibre-optique",
        "source:mastodon lumio",
    ):
        assert parse_search(search) is not None
        search_mentions(es, names, MentionFilter(query=search))
    assert search_mentions(es, names, MentionFilter(query="(panne OR coupure) lyon")).total == 16
    assert [c.customer_id for c in search_customers(es, names, "Julie Martin")] == ["C-1"]


def test_a_search_is_measured_on_its_parsed_tree():
    assert parse_search("   ") is None
    with pytest.raises(SearchTooComplexError) as refused:
        parse_search('"la box" OR "en panne" OR fibre')  # 5 words, whatever the operators
    assert (refused.value.bound, refused.value.found) == ("terms", 5)
    with pytest.raises(QuerySyntaxError) as unread:
        parse_search('lumio "panne')
    assert unread.value.position == 6


def test_a_customer_search_is_measured_as_the_index_splits_it():
    assert search_size('l\'offre "(fibre-optique)" ((box*)) 日本') == {
        "chars": 37,
        "terms": 7,  # l, offre, fibre, optique, box, 日, 本: never fewer than the index makes
        "wildcards": 1,
        "depth": 2,  # the parentheses inside quotes are words, not nesting
    }


def test_a_deeply_nested_rule_query_is_a_syntax_error_not_a_crash():
    with pytest.raises(QuerySyntaxError, match="nested"):
        parse_query("(" * 500 + "lumio" + ")" * 500)
    assert parse_query("((lumio OR box) AND panne)")
