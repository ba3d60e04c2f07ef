"""The Inbox search box speaks the query language of alert rules, and says where a search is wrong."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from dashboard.text import t
from index.client import IndexNames
from index.mentions import index_mentions
from tests.dashboard.test_pages import metric, unescaped
from tests.factories import make_mention

TEXTS = [
    "Concert à Vienne, Lumio tient bon",
    "Je viens de résilier Lumio",
    "Panne Lumio depuis hier",
    "Coupure chez Zéphyr",
]


def test_or_and_not_and_quotes_work_in_the_inbox(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, [make_mention(f"s{i}", text=text) for i, text in enumerate(TEXTS)])
    at = dashboard()
    expected = {
        "panne OR coupure": "2",
        "lumio AND panne": "1",
        "lumio NOT panne": "2",
        '"Vienne"': "1",
        "Vienne": "1",
        "lumio OR zéphyr": "4",
    }
    for search, total in expected.items():
        at.text_input(key="inbox_query").input(search).run(timeout=30)
        assert not at.exception and not at.warning, search
        assert metric(at, t("inbox_total")) == total, search


def test_a_bad_search_says_where_it_is_wrong_instead_of_answering(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [make_mention(f"s{i}", text=text) for i, text in enumerate(TEXTS)])
    at = dashboard()
    for search, problem, position in (
        ('lumio "panne', t("query_error_unclosed_quote"), 7),
        ("((lumio", t("query_error_unclosed_paren"), 2),
    ):
        at.text_input(key="inbox_query").input(search).run(timeout=30)
        assert not at.exception
        (warning,) = at.warning
        assert unescaped(warning.value) == t("query_error", problem=problem, position=position)
        assert at.code[0].value == f"{search}\n{' ' * (position - 1)}^"
        assert not [m for m in at.metric if m.label == t("inbox_total")]  # no count of 0 or of everything
