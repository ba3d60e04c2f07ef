"""The lean mentions mapping holds what Écoute reads: every field a search, filter, sort or count of the
mentions names is indexed, and those sorted or counted keep doc values.

The embedded stand-in searches every field whatever its mapping says, so the readers' own requests are
recorded here (real requests, answered by the stand-in) and checked against the mapping a real cluster
would enforce: there a search on a field kept only in `_source` fails, or finds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from alerts.rules import compile_rule
from alerts.settings import AlertRule
from core.documents import Mention
from index.accounts import account_activity
from index.aggregations import INSIGHT_FIELDS, overview, sentiment_over_time, share_of_voice, top_authors
from index.client import EmbeddedServer, IndexNames
from index.mappings import mapping_for
from index.mention_search import (
    NO_TEAM,
    UNASSIGNED,
    MentionFilter,
    mentions_about,
    mentions_matching,
    search_mentions,
)
from index.mentions import (
    count_collected_since,
    count_to_rescore,
    index_mentions,
    iter_mentions,
    mentions_to_rescore,
)
from index.periods import MENTIONS
from index.privacy import expired_mention_ids, find_person
from index.query_language import FIELDS
from index.team import handled_mentions
from index.triage import assigned_open
from nlp.linking import CustomerDirectory
from tests.factories import make_mention

NOW = datetime.now(UTC)
QUERY_KINDS = ("term", "terms", "range", "prefix", "wildcard", "match", "match_phrase", "span_term")
EVERY_FIELD_QUERY = (
    '"box lumio" OR rembours* OR r*boursement OR (lumio NEAR/3 résilier) '
    + " ".join(f"{name}:x" for name in FIELDS if name != "sentiment")
    + " sentiment:negative"
)


RECORDED: list[tuple[str, Any]] = []
"""(path, body) of each request sent; a search in a point in time under the path that opened it."""
POINTS_IN_TIME: dict[str, str] = {}


class RecordingClient(Elasticsearch):
    """The official client, keeping each request's path and body in RECORDED (and still sending it)."""

    def perform_request(self, method, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().perform_request(method, path, *args, **kwargs)
        body = kwargs.get("body")
        if method == "POST" and path.endswith("/_pit"):
            POINTS_IN_TIME[response.body["id"]] = path
        pit = body.get("pit", {}).get("id") if isinstance(body, dict) else None
        RECORDED.append((POINTS_IN_TIME.get(pit, path), body))
        return response


def _used_fields(body: Any) -> tuple[set[str], set[str]]:
    """(fields searched or filtered, fields sorted or counted) in a request body."""
    searched: set[str] = set()
    ordered: set[str] = set()

    def walk(node: Any, key: str | None = None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, key)
            return
        if not isinstance(node, dict):
            return
        for name, value in node.items():
            if name in QUERY_KINDS and isinstance(value, dict) and isinstance(value.get("field"), str):
                ordered.add(value["field"])  # a terms aggregation, not a terms query
            elif name in QUERY_KINDS and isinstance(value, dict):
                searched.update(f for f in value if not f.startswith("_") and f != "boost")
            elif name == "exists":
                searched.add(value["field"])
            elif name == "sort":
                for clause in value if isinstance(value, list) else [value]:
                    fields = [clause] if isinstance(clause, str) else list(clause)
                    ordered.update(f for f in fields if not f.startswith("_"))
            elif name == "field" and isinstance(value, str) and key not in ("exists", "percolate"):
                ordered.add(value)  # an aggregation's field
            elif name == "highlight":
                searched.update(value["fields"])
                walk(value.get("highlight_query"))
                continue
            walk(value, name)

    walk(body)
    return searched, ordered


def _mapped(mapping: dict[str, Any], field: str) -> dict[str, Any] | None:
    """The mapping of a dotted field (a sub-field included), or None where it is not indexed."""
    node: dict[str, Any] = {"properties": mapping["properties"]}
    for part in field.split("."):
        if node.get("enabled") is False:
            return None
        children = {**node.get("properties", {}), **node.get("fields", {})}
        if part not in children:
            return None
        node = children[part]
    if node.get("enabled") is False or node.get("index") is False or "type" not in node:
        return None
    return node


@pytest.fixture
def recorded(es_server: EmbeddedServer, names: IndexNames) -> list[tuple[str, Any]]:
    """Every request the mentions' readers make, on a few stored mentions."""
    client = RecordingClient(es_server.url, request_timeout=60)
    mentions = [
        make_mention(
            f"m{i}",
            created_at=NOW - timedelta(days=i),
            text="Ma box Lumio: je vais résilier, remboursement demandé",
            customer_id="C-1" if i % 2 else None,
            hashtags=["lumio"],
            entities=[{"text": "Lumio", "label": "ORG"}],
        )
        for i in range(6)
    ]
    index_mentions(client, names, mentions)
    RECORDED.clear()
    month, week = NOW - timedelta(days=30), NOW - timedelta(days=7)
    every = MentionFilter(
        sources=["test"],
        platforms=["mastodon"],
        languages=["fr"],
        sentiments=["negative"],
        intents=["complaint"],
        topics=["Lumio"],
        statuses=["new"],
        customers_only=True,
        hide_noise=True,
        customer_id="C-1",
        assignee="julie@example.org",
        team="support",
        past_target=(("complaint", 3600),),
        since=month,
        until=NOW,
    )
    inbox_searches = [
        '"box lumio" OR rembours*',
        "r*boursement",
        "lumio NEAR/3 résilier",
        *(f"{name}:negative" for name in FIELDS),
    ]
    for query in inbox_searches:  # the Inbox takes short searches only (index/search_bounds.py)
        search_mentions(client, names, MentionFilter(query=query, since=month))
    for order in ("newest", "attention"):
        search_mentions(client, names, every, order=order)
        search_mentions(
            client, names, MentionFilter(assignee=UNASSIGNED, team=NO_TEAM, since=week), order=order
        )
    overview(client, names, MentionFilter(since=month), (*INSIGHT_FIELDS, "platform"), interval="day")
    sentiment_over_time(client, names, MentionFilter(since=month))
    top_authors(client, names, MentionFilter(since=month))
    share_of_voice(client, names, ["Lumio", "Fibra"], MentionFilter(since=month))
    mentions_about(client, names, "Lumio", [(month, NOW)])
    account_activity(client, names, ["C-1"], NOW)
    rule = AlertRule(
        name="every-condition",
        query=EVERY_FIELD_QUERY,
        sources=["test"],
        languages=["fr"],
        sentiment=["negative"],
        intent=["complaint"],
        min_confidence=0.6,
        linked_customer=True,
        min_followers=10,
    )
    mentions_matching(client, names, compile_rule(rule).to_dsl(CustomerDirectory()), since=month)
    count_to_rescore(client, names, "accurate")
    mentions_to_rescore(client, names, "accurate", 10)
    count_collected_since(client, names, MentionFilter(), NOW - timedelta(hours=1))
    list(iter_mentions(client, names, MentionFilter(since=month), 100))
    handled_mentions(client, names, month, NOW)
    assigned_open(client, names, "julie@example.org")
    find_person(client, names, ["someone@mastodon.example"], ["julie@example.org"])
    expired_mention_ids(client, names, "test", NOW - timedelta(days=3))
    return [(path, body) for path, body in RECORDED if MENTIONS.alias(names) in path]


def test_every_field_the_readers_search_is_indexed_and_those_sorted_or_counted_have_doc_values(
    recorded: list[tuple[str, Any]],
):
    mapping = mapping_for(Mention)
    searched: set[str] = set()
    ordered: set[str] = set()
    for _, body in recorded:
        found, sorted_or_counted = _used_fields(body)
        searched |= found
        ordered |= sorted_or_counted
    assert {"text", "title", "author.handle", "triage.note", "edits.text", "history.field"} <= searched
    assert {"created_at", "sentiment.label", "customer_id", "author.followers", "platform"} <= ordered
    assert not [f for f in sorted(searched | ordered) if _mapped(mapping, f) is None]
    without_doc_values = [
        f
        for f in sorted(ordered)
        if _mapped(mapping, f)["type"] == "text" or _mapped(mapping, f).get("doc_values") is False
    ]
    assert not without_doc_values


def test_what_is_only_read_back_is_not_indexed_but_comes_back_whole(es: Elasticsearch, names: IndexNames):
    mapping = mapping_for(Mention)
    for kept in ("native_id", "url", "raw", "thread", "engagement", "intents", "link", "edits.seen_at"):
        assert _mapped(mapping, kept) is None, kept
    assert "fields" not in mapping["properties"]["text"]  # no stemmed or keyword copies of each post
    mention = make_mention(
        "whole",
        thread={"parent_id": "p1", "root_id": "r1"},
        engagement={"likes": 3, "replies": 1, "shares": 2},
        intents=[{"label": "complaint", "confidence": 0.9}],
        link={"customer_id": "C-1", "method": "handle", "confidence": 1.0, "reason": "same handle"},
        flag_reasons=["same text as an earlier post"],
        raw={"nested": {"list": [1, {"a": "b"}]}},
    )
    index_mentions(es, names, [mention])
    found = es.search(index=MENTIONS.alias(names), query={"term": {"id": mention.id}})
    stored = found["hits"]["hits"][0]["_source"]
    assert Mention.model_validate(stored) == mention
