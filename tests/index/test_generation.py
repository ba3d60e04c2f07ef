"""The mentions' generation token: every kind of write to the mentions changes it, reads never do."""

from __future__ import annotations

import logging

import pytest
from elasticsearch import Elasticsearch

from core.documents import CustomerLink
from index.client import IndexNames
from index.customers import upsert_customers
from index.mention_search import MentionFilter, search_mentions
from index.mentions import (
    NO_GENERATION,
    delete_mentions,
    get_mentions_versioned,
    index_mentions,
    mentions_generation,
    refresh_mentions,
)
from index.privacy import delete_mentions_and_alerts, erase_person, find_person
from index.reviews import decide_review, list_reviews, queue_link_reviews
from index.state import STATE
from index.triage import update_triage
from tests.factories import make_customer, make_mention

CM = "community@lumio.example"


def changes(es: Elasticsearch, names: IndexNames, write) -> bool:
    """Whether running `write` gave the mentions a new generation."""
    before = mentions_generation(es, names)
    write()
    return mentions_generation(es, names) != before


def test_there_is_no_generation_before_any_write(es: Elasticsearch, names: IndexNames):
    assert mentions_generation(es, names) == NO_GENERATION


def test_indexing_new_mentions_changes_the_generation_and_duplicates_do_not(
    es: Elasticsearch, names: IndexNames
):
    mentions = [make_mention("a"), make_mention("b")]
    assert changes(es, names, lambda: index_mentions(es, names, mentions))
    assert mentions_generation(es, names) != NO_GENERATION
    assert not changes(es, names, lambda: index_mentions(es, names, mentions))  # nothing new stored


def test_refreshing_after_unrefreshed_writes_changes_the_generation(es: Elasticsearch, names: IndexNames):
    # not searchable yet: a list read now would be cached under the new token without the mention
    assert not changes(es, names, lambda: index_mentions(es, names, [make_mention("a")], refresh=False))
    assert changes(es, names, lambda: refresh_mentions(es, names))
    assert search_mentions(es, names, MentionFilter()).total == 1


def test_a_triage_update_changes_the_generation(es: Elasticsearch, names: IndexNames):
    mention = make_mention("a")
    index_mentions(es, names, [mention])
    seen = get_mentions_versioned(es, names, [mention.id])[mention.id]

    def triage() -> None:
        update_triage(es, names, mention.id, {"status": "answered"}, CM, seen.seq_no, seen.primary_term)

    assert changes(es, names, triage)


def test_reading_mentions_leaves_the_generation_alone(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, [make_mention("a")])
    assert not changes(es, names, lambda: search_mentions(es, names, MentionFilter(), order="attention"))


def test_deleting_mentions_changes_the_generation(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, [make_mention("a"), make_mention("b"), make_mention("c")])
    assert changes(es, names, lambda: delete_mentions(es, names, [make_mention("a").id]))
    assert changes(es, names, lambda: delete_mentions_and_alerts(es, names, [make_mention("b").id]))
    assert [h.mention.native_id for h in search_mentions(es, names, MentionFilter()).hits] == ["c"]


def test_erasing_a_person_changes_the_generation(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, [make_mention("a", author={"handle": "jm74@mastodon.example"})])
    records = find_person(es, names, ["jm74@mastodon.example"], [])
    assert len(records.mentions) == 1
    assert changes(es, names, lambda: erase_person(es, names, records))
    assert search_mentions(es, names, MentionFilter()).total == 0


@pytest.mark.parametrize("decision", ["confirmed", "rejected"])
def test_deciding_a_proposed_link_changes_the_generation(es: Elasticsearch, names: IndexNames, decision: str):
    upsert_customers(es, names, [make_customer("C1", handles=[])])
    proposal = CustomerLink(customer_id="C1", method="fuzzy", confidence=0.8, reason="name matches: Julie")
    mention = make_mention(
        "p1", author={"handle": "jm74@mastodon.example", "display_name": "Julie"}, link_proposal=proposal
    )
    index_mentions(es, names, [mention])
    queue_link_reviews(es, names, [mention])
    (review,) = list_reviews(es, names)
    assert changes(es, names, lambda: decide_review(es, names, review.id, decision, by=CM))  # type: ignore[arg-type]


def test_a_generation_that_cannot_be_stored_never_fails_the_write(
    es: Elasticsearch, names: IndexNames, caplog: pytest.LogCaptureFixture
):
    es.indices.put_settings(index=STATE.alias(names), settings={"index.blocks.write": True})
    try:
        with caplog.at_level(logging.WARNING, logger="index.mentions"):
            report = index_mentions(es, names, [make_mention("a")])
    finally:
        es.indices.put_settings(index=STATE.alias(names), settings={"index.blocks.write": False})
    assert report.created == 1
    assert search_mentions(es, names, MentionFilter()).total == 1
    assert any("generation was not bumped" in r.getMessage() for r in caplog.records)
    assert mentions_generation(es, names) == NO_GENERATION
