"""Index layer against the real Elasticsearch stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from core.documents import Label, Triage
from index.aggregations import counts_by, sentiment_over_time
from index.alerts import ALERTS
from index.catalog import document_types
from index.client import IndexNames
from index.customers import CUSTOMERS, all_customers, search_customers, upsert_customers
from index.health import index_health
from index.mention_search import UNASSIGNED, MentionFilter, search_mentions
from index.mentions import count_mentions, index_mentions
from index.periods import MENTIONS, SCHEMA_VERSION, mention_index
from index.schema import drop_indices, ensure_indices
from index.state import STATE, acquire_lock, release_lock
from tests.factories import days_ago, make_customer, make_mention


def test_indices_are_versioned_behind_aliases_and_setup_is_repeatable(es: Elasticsearch, names: IndexNames):
    assert ensure_indices(es, names) == []  # already created by the fixture: nothing new
    for alias in (CUSTOMERS.alias(names), STATE.alias(names)):
        assert list(es.indices.get_alias(name=alias)) == [f"{alias}-v{SCHEMA_VERSION}"]
    (current,) = es.indices.get_alias(name=MENTIONS.alias(names))  # the mentions: this month's index
    assert current == mention_index(names, datetime.now(UTC))
    assert current == f"{MENTIONS.alias(names)}-v{SCHEMA_VERSION}-{datetime.now(UTC):%Y.%m}"
    (alerts,) = es.indices.get_alias(name=ALERTS.alias(names))  # the alerts too: this month's index
    assert alerts == f"{ALERTS.alias(names)}-v{SCHEMA_VERSION}-{datetime.now(UTC):%Y.%m}"
    mentions = es.indices.get_mapping(index=MENTIONS.alias(names))[current]["mappings"]["properties"]
    assert mentions["text"] == {"type": "text"}  # the search reads it with the standard analyzer only
    (customers,) = es.indices.get_mapping(index=CUSTOMERS.alias(names)).values()
    customers = customers["mappings"]["properties"]
    assert customers["company"]["fields"]["fr"]["analyzer"] == "french"  # the customer search's stemming
    assert customers["company"]["fields"]["en"]["analyzer"] == "english"


def test_every_declared_document_type_is_set_up_and_reset_from_its_declaration(es: Elasticsearch):
    """A document type declared in its index module gets its alias, mapped from its model, with no other
    file to edit; a reset removes it again."""
    names = IndexNames("catalog-test")
    declared = document_types()
    assert {d.name for d in declared} >= {"mentions", "customers", "alerts", "replies", "audit"}
    ensure_indices(es, names)
    try:
        for document in declared:
            alias = document.alias(names)
            assert es.indices.exists_alias(name=alias), alias
            (index,) = es.indices.get_mapping(index=alias).values()
            assert set(index["mappings"]["properties"]) == set(document.model.model_fields), alias
        health = index_health(es, names)  # the Admin page's count of each index
        assert health.documents == {document.alias(names): 0 for document in declared}
    finally:
        drop_indices(es, names)
    assert not es.indices.get(index="catalog-test-*", allow_no_indices=True)


def test_indexing_the_same_mention_twice_keeps_one_copy(es: Elasticsearch, names: IndexNames):
    mentions = [make_mention("a1"), make_mention("a2")]
    first = index_mentions(es, names, mentions)
    second = index_mentions(es, names, mentions)
    assert (first.created, first.duplicates) == (2, 0)
    assert (second.created, second.duplicates) == (0, 2)
    assert count_mentions(es, names) == 2


def test_a_document_the_index_refuses_is_reported_not_dropped(es: Elasticsearch, names: IndexNames):
    good = make_mention("ok")
    bad = make_mention("bad").model_dump(mode="json")
    bad["created_at"] = "not a date"
    from index.bulk import create_documents

    class Raw:
        def __init__(self, data):
            self.data = data

        def model_dump(self, mode="json"):
            return self.data

    report = create_documents(es, MENTIONS.alias(names), [(good.id, good), ("bad-id", Raw(bad))])
    assert report.created == 1
    assert [doc_id for doc_id, _ in report.failed] == ["bad-id"]
    assert report.failed[0][1]  # the reason is kept for the user


def test_search_matches_exact_words_a_prefix_finds_inflections_and_highlights(
    es: Elasticsearch, names: IndexNames
):
    index_mentions(
        es,
        names,
        [
            make_mention("fr1", text="Encore des coupures de la fibre Lumio à Lyon"),
            make_mention("en1", text="Great support from Lumio today", language="en"),
        ],
    )
    # Words are never stemmed (as in alert rules, so "Vienne" is not "viens"); coupure* finds coupures.
    assert search_mentions(es, names, MentionFilter(query="coupure")).total == 0
    page = search_mentions(es, names, MentionFilter(query="coupure*"))
    assert [h.mention.native_id for h in page.hits] == ["fr1"]
    assert any("«" in fragment for fragment in page.hits[0].highlights)


def test_inbox_is_newest_first_and_filters_narrow_it(es: Elasticsearch, names: IndexNames):
    index_mentions(
        es,
        names,
        [
            make_mention("old", created_at=days_ago(3), sentiment=Label(label="negative", confidence=0.9)),
            make_mention("new", created_at=days_ago(1), sentiment=Label(label="positive", confidence=0.9)),
            make_mention("mid", created_at=days_ago(2), customer_id="C-1", language="en"),
        ],
    )
    everything = search_mentions(es, names, MentionFilter())
    assert [h.mention.native_id for h in everything.hits] == ["new", "mid", "old"]
    negative = search_mentions(es, names, MentionFilter(sentiments=["negative"]))
    assert (negative.total, negative.hits[0].mention.native_id) == (1, "old")
    assert [
        h.mention.native_id for h in search_mentions(es, names, MentionFilter(customers_only=True)).hits
    ] == ["mid"]
    recent = MentionFilter(since=days_ago(2.5))
    assert count_mentions(es, names, recent) == 2


def test_unassigned_finds_only_mentions_nobody_is_assigned_to(es: Elasticsearch, names: IndexNames):
    index_mentions(
        es,
        names,
        [
            make_mention("never-triaged", created_at=days_ago(1)),
            make_mention("tagged-only", created_at=days_ago(2), triage=Triage(tags=["box"])),
            make_mention("assigned", created_at=days_ago(3), triage=Triage(assignee="cm@lumio.example")),
        ],
    )
    unassigned = search_mentions(es, names, MentionFilter(assignee=UNASSIGNED))
    assert [h.mention.native_id for h in unassigned.hits] == ["never-triaged", "tagged-only"]
    assert count_mentions(es, names, MentionFilter(assignee="cm@lumio.example")) == 1
    assert count_mentions(es, names, MentionFilter(assignee=None)) == 3


def test_sentiment_over_time_counts_each_label_per_day(es: Elasticsearch, names: IndexNames):
    neg, pos = Label(label="negative", confidence=0.9), Label(label="positive", confidence=0.9)
    index_mentions(
        es,
        names,
        [
            make_mention("d1a", created_at=days_ago(2), sentiment=neg),
            make_mention("d1b", created_at=days_ago(2), sentiment=neg),
            make_mention("d2a", created_at=days_ago(0), sentiment=pos),
        ],
    )
    buckets = sentiment_over_time(es, names)
    assert [(b.negative, b.positive, b.neutral) for b in buckets] == [(2, 0, 0), (0, 0, 0), (0, 1, 0)]
    assert buckets[0].net_sentiment == -1.0
    assert counts_by(es, names, "sentiment.label") == {"negative": 2, "positive": 1}


def test_customers_are_found_by_name_company_email_and_handle(es: Elasticsearch, names: IndexNames):
    upsert_customers(
        es,
        names,
        [
            make_customer("C-1"),
            make_customer(
                "C-2",
                first_name="Tom",
                last_name="Baker",
                full_name="Tom Baker",
                company="Northwind Logistics",
                email="tom@northwind.example",
                handles=["tbaker.bsky.social"],
            ),
        ],
    )
    assert [c.customer_id for c in search_customers(es, names, "Northwind")][:1] == ["C-2"]
    assert [c.customer_id for c in search_customers(es, names, "tom@northwind.example")] == ["C-2"]
    assert [c.customer_id for c in search_customers(es, names, "@tbaker.bsky.social")] == ["C-2"]
    assert [c.customer_id for c in search_customers(es, names, "Julie Martin")][:1] == ["C-1"]


def test_all_customers_pages_through_everything(es: Elasticsearch, names: IndexNames):
    upsert_customers(es, names, [make_customer(f"C-{i}") for i in range(7)])
    assert sorted(c.customer_id for c in all_customers(es, names, page_size=2)) == [
        f"C-{i}" for i in range(7)
    ]


def test_a_lease_keeps_a_second_process_off_a_job_until_it_expires(es: Elasticsearch, names: IndexNames):
    assert acquire_lock(es, names, "source:sample", "host:1", timedelta(minutes=5))
    assert not acquire_lock(es, names, "source:sample", "host:2", timedelta(minutes=5))
    assert acquire_lock(es, names, "source:sample", "host:1", timedelta(seconds=-1))  # owner renews (expired)
    assert acquire_lock(es, names, "source:sample", "host:2", timedelta(minutes=5))  # expired: taken over
    release_lock(es, names, "source:sample", "host:1")  # not the owner any more: no effect
    assert not acquire_lock(es, names, "source:sample", "host:1", timedelta(minutes=5))
    release_lock(es, names, "source:sample", "host:2")
    assert acquire_lock(es, names, "source:sample", "host:1", timedelta(minutes=5))
