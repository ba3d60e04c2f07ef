"""Aggregations are shown up to a minute stale and refreshed in the background, never older than
MAX_STALE_SECONDS; against the real stand-in, with the cache's clock moved by hand."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from dashboard import freshness
from dashboard.cached import crm_quality_of, insights_of, overview_of, shape
from dashboard.context import Index
from ecoute.config import Settings
from index.aggregations import overview
from index.client import EmbeddedServer, IndexNames
from index.customers import upsert_customers
from index.mention_search import MentionFilter
from index.mentions import index_mentions
from index.schema import drop_indices
from tests.dashboard.test_pages import mention
from tests.factories import make_customer

FIELDS = ("sentiment.label", "source")


class Clock:
    """The cache's clock, starting now and moved on only by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(freshness, "clock", fake)
    freshness.clear()
    yield fake
    freshness.wait_for_refreshes()
    freshness.clear()


@pytest.fixture
def index(es: Elasticsearch, es_server: EmbeddedServer, names: IndexNames, settings: Settings) -> Index:
    return Index(es, names, settings, es_server.url)


def last_30_days(clock: Clock) -> MentionFilter:
    """What the Insights page asks for by default, as of the clock."""
    return MentionFilter(since=clock.moment() - timedelta(days=30))


def test_a_second_call_within_the_ttl_does_not_read_the_index(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    assert overview_of(index, last_30_days(clock), FIELDS).total == 1

    index_mentions(es, names, [mention("b", "Lumio, deux.", hours=1)])
    clock.now += freshness.TTL_SECONDS - 1
    flt = last_30_days(clock)
    assert overview_of(index, flt, FIELDS).total == 1
    assert overview(es, names, flt, fields=FIELDS).total == 2  # the index has it: the cache answered


def test_past_the_ttl_the_stale_value_is_shown_and_refreshed_in_the_background(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    assert overview_of(index, last_30_days(clock), FIELDS).total == 1
    index_mentions(es, names, [mention("b", "Lumio, deux.", hours=1)])

    clock.now += freshness.TTL_SECONDS + 1
    assert overview_of(index, last_30_days(clock), FIELDS).total == 1  # at once, without the new one
    freshness.wait_for_refreshes()

    assert overview_of(index, last_30_days(clock), FIELDS).total == 2
    (entry,) = freshness.entries(shape(index, "overview", last_30_days(clock), FIELDS, None))
    assert entry.computed_at == clock.now


def test_the_same_window_a_minute_later_reuses_the_entry(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    first = last_30_days(clock)
    assert overview_of(index, first, FIELDS).total == 1
    index_mentions(es, names, [mention("b", "Lumio, deux.", hours=1)])

    clock.now += 60
    later = last_30_days(clock)
    assert later.since == first.since + timedelta(minutes=1)
    assert overview_of(index, later, FIELDS).total == 1
    (entry,) = freshness.entries(shape(index, "overview", later, FIELDS, None))
    assert entry.since == first.since
    # Another length is another request.
    assert overview_of(index, MentionFilter(since=clock.moment() - timedelta(days=7)), FIELDS).total == 2


def test_the_insights_of_a_period_a_minute_later_reuse_their_entry(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    """Insights' figures, shares of voice and authors are one entry, found again a minute later; another
    interval is another request."""
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    assert insights_of(index, last_30_days(clock), "day").overview.total == 1
    index_mentions(es, names, [mention("b", "Lumio, deux.", hours=1)])

    clock.now += 60
    shown = insights_of(index, last_30_days(clock), "day")
    assert (shown.overview.total, shown.authors[0].mentions) == (1, 1)  # the entry of a minute ago
    assert insights_of(index, last_30_days(clock), "hour").overview.total == 2


def test_past_max_stale_the_value_is_computed_while_the_caller_waits(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    upsert_customers(es, names, [make_customer("C1")])
    assert crm_quality_of(index).customers == 1
    upsert_customers(es, names, [make_customer("C2")])

    clock.now += freshness.MAX_STALE_SECONDS + 1
    assert crm_quality_of(index).customers == 2


def test_the_same_length_at_other_dates_is_never_shown_for_them(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock
):
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    end = clock.moment() + timedelta(hours=1)
    this_month = MentionFilter(since=end - timedelta(days=30), until=end)
    month_before = MentionFilter(since=end - timedelta(days=60), until=end - timedelta(days=30))
    assert overview_of(index, this_month, FIELDS).total == 1

    assert overview_of(index, month_before, FIELDS).total == 0
    assert overview_of(index, this_month, FIELDS).total == 1
    assert len(freshness.entries(shape(index, "overview", this_month, FIELDS, None))) == 2


def test_a_failed_refresh_keeps_the_old_value_and_logs_one_warning(
    es: Elasticsearch, names: IndexNames, index: Index, clock: Clock, caplog: pytest.LogCaptureFixture
):
    index_mentions(es, names, [mention("a", "Lumio, un.", hours=1)])
    assert overview_of(index, None, FIELDS).total == 1
    drop_indices(es, names)

    clock.now += freshness.TTL_SECONDS + 1
    with caplog.at_level(logging.WARNING, logger="dashboard.freshness"):
        assert overview_of(index, None, FIELDS).total == 1
        freshness.wait_for_refreshes()
        (failed,) = [r for r in caplog.records if r.name == "dashboard.freshness"]
        assert failed.levelno == logging.WARNING
        assert "overview: background refresh failed" in failed.getMessage()
        assert "\n" not in failed.getMessage()

        # The old entry stays, and the next call tries again.
        assert overview_of(index, None, FIELDS).total == 1
        freshness.wait_for_refreshes()
        assert len([r for r in caplog.records if r.name == "dashboard.freshness"]) == 2
