"""Routing to the right team: the rules alone, their validation, and end to end through the Engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import Label
from core.errors import ConfigError
from ecoute.config import load_settings
from ecoute.engine import Engine
from ecoute.routing import RoutingConfig, route, routed
from index.client import EmbeddedServer, IndexNames
from index.mention_search import NO_TEAM, MentionFilter, search_mentions
from index.mentions import get_mention, get_mentions_versioned, store_relabels
from index.triage import update_triage
from nlp.pipeline import mention_id
from tests.conftest import ROOT, write_config
from tests.factories import make_customer, make_mention
from tests.reliability.conftest import write_posts

CM = "community@lumio.example"
ROUTING = {
    "teams": {
        "support": {"members": [CM]},
        "sales": {"members": ["sarah.whitfield@lumio.example"]},
        "community": {"members": [CM, "marketing@lumio.example"]},
    },
    "rules": [
        {
            "name": "complaints-to-support",
            "when": {"intents": ["complaint", "churn_risk"]},
            "to": {"team": "support"},
        },
        {
            "name": "purchase-to-owner",
            "when": {"intents": ["purchase"]},
            "to": {"owner": True, "team": "sales"},
        },
        {"name": "questions-to-community", "when": {"intents": ["question"]}, "to": {"team": "community"}},
    ],
}


def rules(data: dict | None = None):
    return RoutingConfig.model_validate(data or ROUTING).rules


def labelled(native_id: str, intent: str, **overrides):
    return make_mention(native_id, intent=Label(label=intent, confidence=0.9), **overrides)


def test_the_first_matching_rule_decides_and_no_rule_leaves_it_unassigned():
    owner = make_customer("C-1", owner_email="claire.dubois@lumio.example")
    assert route(labelled("a", "complaint"), None, rules()).team == "support"
    purchase = route(labelled("b", "purchase", customer_id="C-1"), owner, rules())
    assert (purchase.team, purchase.assignee, purchase.rule) == (
        "sales",
        owner.owner_email,
        "purchase-to-owner",
    )
    anonymous = route(labelled("c", "purchase"), None, rules())
    assert (anonymous.team, anonymous.assignee) == ("sales", None)
    assert route(labelled("d", "question"), None, rules()).team == "community"
    assert route(labelled("e", "praise"), None, rules()) is None


def test_conditions_on_source_language_segment_and_owner_alone():
    data = {
        "teams": {"enterprise": {}, "fr-desk": {}},
        "rules": [
            {"name": "owner-only", "when": {"intents": ["purchase"]}, "to": {"owner": True}},
            {"name": "big-accounts", "when": {"segments": ["enterprise"]}, "to": {"team": "enterprise"}},
            {
                "name": "french-forum",
                "when": {"sources": ["forum"], "languages": ["fr"]},
                "to": {"team": "fr-desk"},
            },
            {"name": "boss", "when": {"sentiment": ["negative"]}, "to": {"person": "boss@lumio.example"}},
        ],
    }
    no_owner = make_customer("C-2", owner_email=None, segment="enterprise")
    # "the owner" with no owner known: the next rule decides
    assert route(labelled("a", "purchase", customer_id="C-2"), no_owner, rules(data)).rule == "big-accounts"
    assert route(labelled("b", "other", source="forum"), None, rules(data)).team == "fr-desk"
    assert route(labelled("c", "other", source="forum", language="en"), None, rules(data)) is None
    angry = labelled("d", "other", sentiment=Label(label="negative", confidence=0.9))
    assert route(angry, None, rules(data)).assignee == "boss@lumio.example"


def test_routing_is_recorded_and_never_replaces_a_triage():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    mention = routed(labelled("a", "complaint"), route(labelled("a", "complaint"), None, rules()), now)
    assert mention.triage.team == "support" and mention.status == "new"
    assert [(c.by, c.field, c.old, c.new) for c in mention.history] == [
        ("routing:complaints-to-support", "team", None, "support")
    ]
    again = routed(mention, route(labelled("a", "question"), None, rules()), now)
    assert again.triage.team == "support"


def config_with(tmp_path: Path, routing: object) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:9", "routing", routing=routing)


def test_a_rule_to_an_unknown_team_is_one_clear_error(tmp_path: Path):
    bad = {**ROUTING, "rules": [{"name": "x", "to": {"team": "billing"}}]}
    with pytest.raises(ConfigError) as caught:
        load_settings(config_with(tmp_path, bad))
    assert "routing: " in str(caught.value)
    assert "rule 'x' sends to unknown team 'billing' (teams: community, sales, support)" in str(caught.value)


def test_an_unknown_key_in_a_rule_is_named(tmp_path: Path):
    bad = {**ROUTING, "rules": [{"name": "x", "when": {"intent": ["complaint"]}, "to": {"team": "support"}}]}
    with pytest.raises(ConfigError, match=r"routing\.rules\.0\.when\.intent: unknown key"):
        load_settings(config_with(tmp_path, bad))
    nowhere = {**ROUTING, "rules": [{"name": "x", "to": {}}]}
    with pytest.raises(ConfigError, match=r"routing\.rules\.0\.to: .*set team, person or owner"):
        load_settings(config_with(tmp_path, nowhere))


POSTS = [
    (
        "complaint",
        None,
        "Ma box Lumio est en panne depuis trois jours, le service client ne répond pas, c'est inadmissible !",
    ),
    (
        "purchase-customer",
        "haddad_n@pouet.example",
        "Je voudrais souscrire à l'offre fibre Lumio pour mes 20 salariés, comment passer commande ?",
    ),
    ("purchase", None, "We want to buy Lumio business fibre for our three offices, who can send us a quote?"),
    ("question", None, "How do I change the wifi password on my Lumio router?"),
    ("other", None, "Lumio's shareholder meeting is on Tuesday."),
]


@pytest.fixture
def engine(tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames) -> Engine:
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    posts = [
        {"native_id": n, "platform": "mastodon", "author": {"handle": h}, "text": text, "created_at": at}
        for n, h, text in POSTS
    ]
    path = write_posts(tmp_path / "posts.jsonl", posts)
    config = write_config(
        tmp_path,
        es_server.url,
        names.prefix,
        sources=[{"name": "posts", "type": "file", "path": str(path), "interval_seconds": 60}],
        nlp={"batch_size": 10, "entities": False, "models": ["fast"]},
        crm={"customers_csv": str(ROOT / "samples" / "crm_customers.csv")},
        routing=ROUTING,
    )
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    engine.import_customers()
    return engine


def test_new_mentions_land_in_their_queue_end_to_end(engine: Engine, es: Elasticsearch, names: IndexNames):
    report = engine.collect("posts")
    assert report.error is None and report.indexed == len(POSTS)
    stored = {n: get_mention(es, names, mention_id("posts", n)) for n, _, _ in POSTS}
    assert {n: m.intent.label for n, m in stored.items()} == {
        "complaint": "complaint",
        "purchase-customer": "purchase",
        "purchase": "purchase",
        "question": "question",
        "other": "other",
    }
    where = {n: (m.triage.team, m.triage.assignee) if m.triage else None for n, m in stored.items()}
    assert where == {
        "complaint": ("support", None),
        "purchase-customer": ("sales", "claire.dubois@lumio.example"),  # C-1009's account owner
        "purchase": ("sales", None),
        "question": ("community", None),
        "other": None,
    }
    assert stored["purchase-customer"].customer_id == "C-1009"
    assert [(c.by, c.field, c.new) for c in stored["purchase-customer"].history] == [
        ("routing:purchase-to-owner", "team", "sales"),
        ("routing:purchase-to-owner", "assignee", "claire.dubois@lumio.example"),
    ]
    assert all(m.status == "new" for m in stored.values())  # routed is not answered
    in_queue = search_mentions(es, names, MentionFilter(team="sales")).hits
    assert sorted(h.mention.native_id for h in in_queue) == ["purchase", "purchase-customer"]
    assert [h.mention.native_id for h in search_mentions(es, names, MentionFilter(team=NO_TEAM)).hits] == [
        "other"
    ]


def test_a_hand_off_is_recorded_and_neither_collection_nor_rescoring_moves_a_mention(
    engine: Engine, es: Elasticsearch, names: IndexNames
):
    engine.collect("posts")
    complaint, question = mention_id("posts", "complaint"), mention_id("posts", "question")
    opened = get_mentions_versioned(es, names, [complaint])[complaint]
    update_triage(es, names, complaint, {"team": "sales"}, CM, opened.seq_no, opened.primary_term)

    handed = get_mention(es, names, complaint)
    assert handed.triage.team == "sales"
    assert [(c.by, c.field, c.old, c.new) for c in handed.history] == [
        ("routing:complaints-to-support", "team", None, "support"),
        (CM, "team", "support", "sales"),
    ]
    assert [h.mention.id for h in search_mentions(es, names, MentionFilter(team="support")).hits] == []

    # The same posts collected again: nothing is routed again, the hand-off stays.
    engine.local_cursors.put("posts", {}, datetime.now(UTC))
    assert engine.collect("posts", since=datetime.now(UTC) - timedelta(days=1)).duplicates == len(POSTS)
    assert get_mention(es, names, complaint).triage.team == "sales"

    # A re-score that changes the intent (the write path of the accurate model) moves nothing either.
    versions = get_mentions_versioned(es, names, [complaint, question])
    purchase = {"intent": Label(label="purchase", confidence=0.9), "model": "accurate"}
    relabelled = [
        (v.mention.model_copy(update=purchase), v.seq_no, v.primary_term, v.index) for v in versions.values()
    ]
    assert sorted(store_relabels(es, names, relabelled).updated) == sorted([complaint, question])
    after = {i: get_mention(es, names, i) for i in (complaint, question)}
    assert after[complaint].intent.label == after[question].intent.label == "purchase"
    assert after[complaint].triage.team == "sales"  # the person's hand-off
    assert after[question].triage.team == "community"  # routed once, at ingest
    assert len(after[question].history) == 1
