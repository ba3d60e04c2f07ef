"""The rule query language: what it accepts, where it points at a mistake, and that the portable matcher
finds exactly what the compiled Elasticsearch query finds over the same indexed mentions."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from alerts.query import Near, Phrase, Prefix, QuerySyntaxError, describe, parse_query, words
from alerts.rules import compile_rule, mention_words
from alerts.settings import AlertRule
from index.client import IndexNames
from index.customers import upsert_customers
from index.mention_search import mentions_matching
from index.mentions import index_mentions
from nlp.linking import CustomerDirectory
from tests.factories import make_customer, make_mention

TEXTS = [
    "Ma box Lumio est en panne depuis hier, service client injoignable.",
    "Zéphyr Télécom est moins cher que LUMIO, je résilie mon abonnement.",
    "L'équipe de Lumio m'a bien aidé, la fibre marche. Panne résolue !",
    "Lumio panne",
    "lumio a b c panne",
    "lumio a b c d panne",
    "Service, client : personne ne répond. #lumio @lumiocare 🙂",
    "Remboursement demandé à Lumio pour la coupure du 3.5 (e-mail envoyé).",
    "aujourd’hui encore pas de connexion chez Lumio.fr, don't buy",
    "The Lumio support was great, no internet issues since the upgrade",
    "client service was slow but lumio fixed it",
    "Rien à voir : un gâteau au chocolat.",
]
TITLES = {5: "Panne générale ?", 9: "Support service client"}

GOOD_QUERIES = [
    "lumio",
    "LUMIO",
    "panne",
    '"service client"',
    '"client service"',
    "service client",
    "lumio AND panne",
    "lumio panne",
    "panne OR coupure",
    "lumio NOT panne",
    "NOT lumio",
    "lumio AND NOT (panne OR coupure)",
    "(panne OR coupure) AND lumio NOT résolue",
    "lumio NEAR/0 panne",
    "lumio NEAR/1 panne",
    "lumio NEAR/3 panne",
    "lumio NEAR/4 panne",
    "panne NEAR/3 lumio",
    "lumio NEAR panne",
    '"service client" NEAR/2 injoignable',
    "rembours*",
    "pan*",
    "e-mail",
    "lumio.fr",
    "aujourd’hui",
    "l'équipe",
    "zéphyr",
    "zephyr",
    '"no internet" OR "pas de connexion"',
    "3.5",
    "🙂",
    "générale",
    "lumio AND (service OR support) AND NOT gâteau",
]


def test_words_follow_the_standard_analyzer():
    assert words("L'équipe de LUMIO m'a aidé, e-mail: 3.5 ou 1,5 #lumio @care lumio.fr 🙂") == [
        "l'équipe", "de", "lumio", "m'a", "aidé", "e", "mail", "3.5", "ou", "1,5", "lumio", "care",
        "lumio.fr", "🙂",
    ]  # fmt: skip


def test_a_query_becomes_a_tree():
    tree = parse_query('"Service Client" AND (panne OR coupure) NOT résolu')
    assert describe(tree) == '"service client" AND (panne OR coupure) AND NOT résolu'
    near = parse_query("lumio NEAR/3 résilier")
    assert near == Near(Phrase(("lumio",), 0), Phrase(("résilier",), 13), 3, 6)
    assert parse_query("rembours*") == Prefix("rembours", 0)
    assert describe(parse_query("a OR b c")) == "a OR (b AND c)"  # AND binds tighter than OR


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "the query is empty"),
        ("lumio AND", 9, "the query ends where a word, a quoted phrase or ( after AND is expected"),
        ('lumio "service client', 6, "this quote is never closed"),
        ("(panne OR coupure", 0, "this ( is never closed"),
        ("panne OR coupure)", 16, "this ) has no ( before it"),
        ("lumio OR OR panne", 9, "expected a word, a quoted phrase or ( after OR, found 'OR'"),
        ("AND lumio", 0, "expected a word, a quoted phrase or (, found 'AND'"),
        ("lumio NEAR/x panne", 11, "NEAR/ takes a number of words from 0 to 50, e.g. NEAR/3"),
        ("lumio NEAR (a OR b)", 11, "NEAR joins two words or quoted phrases"),
        ("a NEAR b NEAR c", 9, "NEAR joins two words or phrases; combine several with AND"),
        ('lumio ""', 6, "this quoted phrase has no words in it"),
        ("lumio ()", 7, "these parentheses are empty"),
        ("l* panne", 0, "a prefix* needs at least 2 letters or digits before the *"),
        ("lumio -- panne", 6, "'--' has no letters or digits to search for"),
    ],
)
def test_a_mistake_is_reported_where_it_is(query: str, position: int, message: str):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert (caught.value.position, caught.value.message) == (position, message)
    assert str(caught.value) == f"query: {message} at character {position + 1}"
    assert caught.value.pointer().splitlines()[1] == " " * position + "^"


def test_a_rule_with_a_bad_query_is_refused_with_the_position():
    with pytest.raises(ValueError, match="this quote is never closed at character 7"):
        AlertRule(name="bad", query='lumio "panne')


def test_the_portable_matcher_agrees_with_the_compiled_query(es: Elasticsearch, names: IndexNames):
    mentions = [make_mention(f"q{i}", text=text, title=TITLES.get(i)) for i, text in enumerate(TEXTS)]
    index_mentions(es, names, mentions)
    directory = CustomerDirectory()
    for query in GOOD_QUERIES:
        compiled = compile_rule(AlertRule(name="q", query=query))
        portable = {m.native_id for m in mentions if compiled.matches(m, directory, mention_words(m))}
        _, found = mentions_matching(es, names, compiled.to_dsl(directory), size=100)
        assert portable == {m.native_id for m in found}, query
    # The set is not trivial: queries find different, non-empty, non-total sets of mentions.
    assert len({frozenset(_portable(q, mentions)) for q in GOOD_QUERIES}) > 20


def _portable(query: str, mentions) -> set[str]:
    compiled = compile_rule(AlertRule(name="q", query=query))
    return {m.native_id for m in mentions if compiled.matches(m, CustomerDirectory())}


def test_near_counts_the_words_between():
    mentions = [make_mention(f"q{i}", text=text) for i, text in enumerate(TEXTS)]
    assert _portable("lumio NEAR/0 panne", mentions) == {"q3"}
    assert _portable("panne NEAR/3 lumio", mentions) == {"q0", "q3", "q4"}  # "est en": 2 words between
    assert _portable("lumio NEAR/4 panne", mentions) == {"q0", "q3", "q4", "q5"}


def test_rule_filters_agree_with_the_compiled_query(es: Elasticsearch, names: IndexNames):
    from core.documents import Label

    customers = [
        make_customer("C1", segment="enterprise", account_value=90000.0),
        make_customer("C2", segment="smb", account_value=3000.0, handles=["c2@mastodon.example"]),
    ]
    upsert_customers(es, names, customers)
    directory = CustomerDirectory(customers)
    neg, churn = Label(label="negative", confidence=0.9), Label(label="churn_risk", confidence=0.8)
    weak = Label(label="negative", confidence=0.2)
    mentions = [
        make_mention("f1", text="Lumio en panne", sentiment=neg, customer_id="C1"),
        make_mention("f2", text="Lumio en panne", sentiment=weak, customer_id="C2"),
        make_mention("f3", text="Je résilie Lumio", intent=churn, customer_id="C2", language="fr"),
        make_mention(
            "f4",
            text="Lumio down",
            sentiment=neg,
            language="en",
            author={"handle": "big", "followers": 90000},
        ),
        make_mention("f5", text="Lumio ok", source="rss", platform="news"),
    ]
    index_mentions(es, names, mentions)
    rules = [
        AlertRule(name="a", sentiment=["negative"], min_confidence=0.5),
        AlertRule(
            name="b",
            sentiment=["negative"],
            intent=["churn_risk"],
            sentiment_or_intent=True,
            linked_customer=True,
        ),
        AlertRule(name="c", segments=["enterprise"]),
        AlertRule(name="d", min_account_value=5000),
        AlertRule(name="e", min_followers=1000, languages=["en"]),
        AlertRule(name="f", linked_customer=False, sources=["test"]),
        AlertRule(
            name="g", query="panne", segments=["smb", "consumer"], min_confidence=0.1, sentiment=["negative"]
        ),
        AlertRule(name="h", segments=["nobody"]),
    ]
    expected = {
        "a": {"f1", "f4"}, "b": {"f1", "f2", "f3"}, "c": {"f1"}, "d": {"f1"}, "e": {"f4"}, "f": {"f4"},
        "g": {"f2"}, "h": set(),
    }  # fmt: skip
    for rule in rules:
        compiled = compile_rule(rule)
        portable = {m.native_id for m in mentions if compiled.matches(m, directory)}
        _, found = mentions_matching(es, names, compiled.to_dsl(directory), size=100)
        assert portable == {m.native_id for m in found} == expected[rule.name], rule.name
