"""Mentions in one index per period of their `created_at`, against the real stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from core.documents import Label
from index.aggregations import overview
from index.client import IndexNames
from index.mention_search import MentionFilter, search_mentions
from index.mentions import (
    count_mentions,
    delete_mentions,
    get_mention,
    get_mentions_versioned,
    index_mentions,
    iter_mentions,
    store_relabels,
)
from index.periods import (
    MENTIONS,
    choose_indices,
    indices_for,
    mention_index,
    mention_indices,
    period_bounds,
    period_of,
)
from index.privacy import delete_mentions_and_alerts
from index.triage import update_triage
from tests.factories import make_mention

NOW = datetime.now(UTC)


def a_year(count: int = 12) -> list:
    """One mention a month for `count` months, newest first (m0 is today)."""
    return [make_mention(f"m{i}", created_at=NOW - timedelta(days=30 * i)) for i in range(count)]


def test_periods_are_months_or_iso_weeks_in_utc():
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert period_of(moment, "month") == "2026.03"
    assert period_of(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "week") == "2026w01"
    assert period_of(datetime(2027, 1, 1, tzinfo=UTC), "week") == "2026w53"  # ISO year of that Friday
    assert period_bounds("x-mentions-v1-2026.12") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    start, end = period_bounds("x-mentions-v1-2026w10") or (None, None)
    assert start == datetime(2026, 3, 2, tzinfo=UTC) and end == datetime(2026, 3, 9, tzinfo=UTC)
    assert period_bounds("x-mentions-v1") is None  # a single index made before: no period


def test_each_mention_lands_in_the_index_of_its_month_made_from_the_template(
    es: Elasticsearch, names: IndexNames
):
    mentions = a_year(3)
    report = index_mentions(es, names, mentions)
    assert report.created == 3
    assert report.indices == {mention_index(names, m.created_at) for m in mentions}  # only those refreshed
    for m in mentions:
        stored = es.get(index=mention_index(names, m.created_at), id=m.id)
        assert stored["_source"]["native_id"] == m.native_id
    old = mention_index(names, mentions[2].created_at)
    mapping = es.indices.get_mapping(index=old)[old]["mappings"]
    assert (
        mapping["dynamic"] == "strict"
        and mapping["properties"]["text"] == {"type": "text"}
        and mapping["properties"]["native_id"] == {"type": "object", "enabled": False}
    )
    assert set(mention_indices(es, names)) >= report.indices
    assert count_mentions(es, names) == 3


def test_collecting_twice_keeps_one_copy_even_when_an_undated_post_is_dated_another_month(
    es: Elasticsearch, names: IndexNames
):
    dated = make_mention("d1", created_at=NOW - timedelta(days=70))
    undated = make_mention("u1", created_at=NOW - timedelta(days=40), flags=["undated"])
    assert index_mentions(es, names, [dated, undated]).created == 2
    later = undated.model_copy(update={"created_at": NOW})  # read again later: dated when collected
    again = index_mentions(es, names, [dated, later])
    assert (again.created, again.duplicates) == (0, 2)
    assert count_mentions(es, names) == 2


def test_a_date_range_reads_only_the_indices_it_overlaps_and_still_finds_old_mentions(
    es: Elasticsearch, names: IndexNames
):
    mentions = a_year(12)
    index_mentions(es, names, mentions)
    everything = mention_indices(es, names)
    assert len(everything) >= 12
    week = MentionFilter(since=NOW - timedelta(days=7)).indices(es, names).split(",")
    month = MentionFilter(since=NOW - timedelta(days=30)).indices(es, names).split(",")
    quarter = MentionFilter(since=NOW - timedelta(days=90)).indices(es, names).split(",")
    assert 1 <= len(week) <= 2 and len(month) <= 2 and len(quarter) <= 4
    assert mention_index(names, NOW) in week and all(i in everything for i in quarter)
    assert MentionFilter().indices(es, names) == MENTIONS.alias(names)  # unbounded: the alias
    # Old mentions are found when the range includes them, and not otherwise.
    old = mentions[10]
    window = MentionFilter(since=old.created_at - timedelta(days=1), until=old.created_at + timedelta(days=1))
    assert len(window.indices(es, names).split(",")) <= 2
    assert [h.mention.id for h in search_mentions(es, names, window).hits] == [old.id]
    assert count_mentions(es, names, MentionFilter(since=NOW - timedelta(days=100))) == 4
    assert overview(es, names, MentionFilter(since=NOW - timedelta(days=400))).total == 12
    assert count_mentions(es, names, MentionFilter(until=NOW - timedelta(days=200))) == 5


def test_a_range_no_index_overlaps_names_one_index_and_finds_nothing(es: Elasticsearch, names: IndexNames):
    index_mentions(es, names, a_year(2))
    far = MentionFilter(since=NOW - timedelta(days=3000), until=NOW - timedelta(days=2900))
    assert len(far.indices(es, names).split(",")) == 1
    assert count_mentions(es, names, far) == 0
    assert choose_indices([], "alias", NOW, None) == "alias"
    assert indices_for(es, names, None, None) == MENTIONS.alias(names)


def test_updates_by_id_reach_the_mention_in_its_own_index(es: Elasticsearch, names: IndexNames):
    old, new = make_mention("old", created_at=NOW - timedelta(days=200)), make_mention("new", created_at=NOW)
    index_mentions(es, names, [old, new])
    seen = get_mentions_versioned(es, names, [old.id])[old.id]
    assert seen.index == mention_index(names, old.created_at)
    update_triage(
        es, names, old.id, {"status": "answered"}, "cm@lumio.example", seen.seq_no, seen.primary_term
    )
    assert (get_mention(es, names, old.id) or old).status == "answered"
    relabel = seen.mention.model_copy(update={"sentiment": Label(label="negative", confidence=0.9)})
    again = get_mentions_versioned(es, names, [old.id])[old.id]
    report = store_relabels(es, names, [(relabel, again.seq_no, again.primary_term, None)])
    assert report.updated == [old.id]
    assert (get_mention(es, names, old.id) or old).sentiment.label == "negative"
    assert delete_mentions(es, names, [old.id]) == 1
    assert delete_mentions_and_alerts(es, names, [new.id])["mentions"] == 1
    assert count_mentions(es, names) == 0


def test_retention_drops_whole_expired_indices_and_deletes_by_id_at_the_edge(
    es: Elasticsearch, names: IndexNames
):
    from index.privacy import drop_expired_indices, expired_mention_ids

    mentions = a_year(6)  # today, 30, 60, ... 150 days ago
    other = make_mention("kept", source="forever", created_at=NOW - timedelta(days=150))
    index_mentions(es, names, [*mentions, other])
    cutoff = NOW - timedelta(days=75)
    dropped = drop_expired_indices(es, names, {"test": cutoff})
    gone = {d.index for d in dropped}
    # Only indices wholly before the cutoff holding no source without retention go.
    assert mention_index(names, other.created_at) not in gone
    assert all((period_bounds(i) or (NOW, NOW))[1] <= cutoff for i in gone) and gone
    assert not gone & set(mention_indices(es, names))
    edge = expired_mention_ids(es, names, "test", cutoff)
    assert delete_mentions_and_alerts(es, names, edge)["mentions"] == len(edge)
    left = {h.mention.native_id for h in search_mentions(es, names, MentionFilter(), size=100).hits}
    assert left == {"m0", "m1", "m2", "kept"}


def test_retention_that_drops_a_whole_month_deletes_the_replies_to_its_mentions_too(
    es: Elasticsearch, names: IndexNames
):
    """A reply quotes its post's author and waits, maybe, for its CRM note: it goes with the mention
    whether retention deletes that by id or drops its whole month (before: the month went, its replies
    stayed, and a CRM push still pending went on being tried with them)."""
    from core.documents import Reply
    from index.privacy import drop_expired_indices
    from index.replies import REPLIES, get_reply

    expired = make_mention("old", created_at=NOW - timedelta(days=200))
    recent = make_mention("recent", created_at=NOW - timedelta(days=10))
    index_mentions(es, names, [expired, recent])
    for mention in (expired, recent):
        at = mention.created_at + timedelta(hours=1)
        reply = Reply(
            id=f"reply-{mention.native_id}",
            mention_id=mention.id,
            source=mention.source,
            platform="mastodon",
            in_reply_to=mention.native_id,
            text=f"@{mention.author.handle} Bonjour, nous regardons.",
            status="sent",
            drafted_by="community@lumio.example",
            drafted_at=at,
            sent_at=at,
            crm_source="espo",
            crm_push_attempts=3,
            crm_push_error="crm espo: POST Note: HTTP 503",
            updated_at=at,
        )
        es.index(
            index=REPLIES.alias(names), id=reply.id, document=reply.model_dump(mode="json"), refresh=True
        )

    dropped = drop_expired_indices(es, names, {"test": NOW - timedelta(days=75)})

    assert [d.index for d in dropped] == [mention_index(names, expired.created_at)]
    assert get_reply(es, names, "reply-old") is None
    assert get_reply(es, names, "reply-recent") is not None


def test_an_export_reads_every_month_newest_first_and_stops_at_its_cap(es: Elasticsearch, names: IndexNames):
    """The Inbox export pages through every period index (the stand-in's point in time over the alias
    alone reads one of them)."""
    index_mentions(es, names, a_year(5))
    everything = [m.native_id for m in iter_mentions(es, names, MentionFilter(), limit=100, page_size=2)]
    assert everything == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.native_id for m in iter_mentions(es, names, MentionFilter(), limit=3, page_size=2)] == [
        "m0",
        "m1",
        "m2",
    ]
