"""The review queue end to end: proposals from the pipeline, a person's decision, and what follows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from core.documents import Author, RawPost
from ecoute.config import Settings
from ecoute.engine import Engine, RunReport
from index.client import IndexNames
from index.customers import get_customer
from index.mention_search import MentionFilter, search_mentions
from index.reviews import ReviewError, decide_review, list_reviews


def post(native_id: str, handle: str, display: str, text: str) -> RawPost:
    return RawPost(
        source="test",
        platform="mastodon",
        native_id=native_id,
        author=Author(handle=handle, display_name=display),
        text=text,
        created_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )


@pytest.fixture
def engine(es: Elasticsearch, names: IndexNames, settings: Settings) -> Engine:
    engine = Engine(
        settings.model_copy(update={"alerts": settings.alerts.model_copy(update={"rules": []})}), es, names
    )
    engine.prepare()
    engine.import_customers()  # the sample CRM: C-1001 is Lucy Cox, no social handle on record
    return engine


def process(engine: Engine, *posts: RawPost) -> None:
    engine.refresh_decisions()
    assert engine.process(list(posts), RunReport(source="test"))


def mentions_of(engine: Engine, handle: str):
    hits = search_mentions(engine.es, engine.names, MentionFilter(), size=100).hits
    return [h.mention for h in hits if h.mention.author.handle == handle]


def test_a_confirmed_link_is_written_back_and_holds_for_every_later_mention(engine: Engine):
    process(engine, post("1", "lucyc@mastodon.example", "Lucy Cox", "My Lumio router died again."))
    (review,) = list_reviews(engine.es, engine.names)
    assert (review.customer_id, review.customer_name, review.author_handle) == (
        "C-1001",
        "Lucy Cox",
        "lucyc@mastodon.example",
    )
    assert review.evidence == ["author name “lucy cox” matches Lucy Cox (100%)"]
    (first,) = mentions_of(engine, "lucyc@mastodon.example")
    assert first.customer_id is None and first.link_proposal is not None  # proposed, not applied

    decide_review(engine.es, engine.names, review.id, "confirmed", by="community@lumio.example")
    lucy = get_customer(engine.es, engine.names, "C-1001")
    assert lucy is not None and lucy.confirmed_handles == ["lucyc@mastodon.example"]
    (first,) = mentions_of(engine, "lucyc@mastodon.example")
    assert first.customer_id == "C-1001" and first.link is not None and first.link.method == "confirmed"
    assert first.link_proposal is None

    engine.import_customers()  # the next CRM import keeps what a person confirmed
    lucy = get_customer(engine.es, engine.names, "C-1001")
    assert lucy is not None and lucy.confirmed_handles == ["lucyc@mastodon.example"]

    process(engine, post("2", "lucyc@mastodon.example", "Lucy C.", "Lumio support fixed it, thanks."))
    later = next(m for m in mentions_of(engine, "lucyc@mastodon.example") if m.native_id == "2")
    assert later.customer_id == "C-1001" and later.link is not None
    assert later.link.reason == (
        "handle @lucyc@mastodon.example was confirmed as Lucy Cox, Wrenfield Accounting in the review queue"
    )
    assert list_reviews(engine.es, engine.names) == []


def test_a_rejected_link_is_never_proposed_again_for_that_author(engine: Engine):
    process(engine, post("1", "mattp@mastodon.example", "Matthew Palmer", "Lumio's app is slow."))
    (review,) = list_reviews(engine.es, engine.names)
    decided = decide_review(engine.es, engine.names, review.id, "rejected", by="community@lumio.example")
    assert (decided.status, decided.decided_by) == ("rejected", "community@lumio.example")
    (first,) = mentions_of(engine, "mattp@mastodon.example")
    assert first.customer_id is None and first.link_proposal is None

    process(engine, post("2", "mattp@mastodon.example", "Matthew Palmer", "Still slow, Lumio."))
    assert list_reviews(engine.es, engine.names) == []
    assert all(
        m.customer_id is None and m.link_proposal is None
        for m in mentions_of(engine, "mattp@mastodon.example")
    )
    palmer = get_customer(engine.es, engine.names, "C-1002")
    assert palmer is not None and palmer.confirmed_handles == []


def test_more_mentions_by_the_same_author_join_one_proposal(engine: Engine):
    process(
        engine,
        post("1", "lucyc@mastodon.example", "Lucy Cox", "My Lumio router died again."),
        post("2", "lucyc@mastodon.example", "Lucy Cox", "Day two without Lumio internet."),
    )
    process(engine, post("3", "lucyc@mastodon.example", "Lucy Cox", "Day three."))
    (review,) = list_reviews(engine.es, engine.names)
    assert len(review.mention_ids) == 3


def test_deciding_an_unknown_proposal_says_so(engine: Engine):
    with pytest.raises(ReviewError, match="no proposed link with id nope"):
        decide_review(engine.es, engine.names, "nope", "confirmed", by="x@lumio.example")
