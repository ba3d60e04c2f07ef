"""What pages read again and again, cached per index prefix and filter.

Aggregations (`overview_of`, `insights_of`, `crm_quality_of`) are shown at most
`freshness.TTL_SECONDS` (60 s) stale normally: past that the stale figures are shown at once and
computed again in the background, so nobody waits for a slow aggregation twice; figures older than
`freshness.MAX_STALE_SECONDS` are never shown, they are computed while the page waits. "The last 30 days"
a minute later is the same request for this cache (see `dashboard.freshness`).

Lists of mentions are exact: they are cached per mentions generation as well, and every write to the
mentions (indexing, triage, deletion, a review decision) gives them a new one, so a change shows on the
very next run; the TTL only covers a generation that could not be stored. The versions triage writes are
conditional on (`get_mentions_versioned`) are never cached.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, replace
from datetime import datetime

import streamlit as st

from dashboard import freshness
from dashboard.context import Index, _open, config_path
from index.aggregations import (
    INSIGHT_FIELDS,
    Overview,
    PeriodInsights,
    overview,
    overview_and_mentions,
    period_insights,
)
from index.crm import QualityReport, crm_quality
from index.mention_search import MentionFilter, MentionPage, search_mentions
from index.mentions import mentions_generation

TTL_SECONDS = 60
MAX_PAGES = 200
"""Cached lists of mentions kept at most: a busy engine makes a new generation every batch."""


def _minute(moment: datetime | None) -> datetime | None:
    return moment.replace(second=0, microsecond=0) if moment else None


def _stable(flt: MentionFilter | None) -> tuple[MentionFilter, str]:
    """The filter with its bounds floored to the minute (so "last 7 days" hits the cache), and its key."""
    flt = flt or MentionFilter()
    flt = replace(flt, since=_minute(flt.since), until=_minute(flt.until))
    return flt, repr(sorted(asdict(flt).items()))


def shape(index: Index, what: str, flt: MentionFilter | None, *args: Hashable) -> Hashable:
    """The `freshness` key of an aggregation: the filter with its window reduced to a length."""
    flt = flt or MentionFilter()
    rest = repr(sorted(asdict(replace(flt, since=None, until=None)).items()))
    window = freshness.shape_of_window(flt.since, flt.until)
    return (config_path(), index.names.prefix, what, args, rest, window)


def overview_of(
    index: Index, flt: MentionFilter | None, fields: tuple[str, ...], interval: str | None = None
) -> Overview:
    """Counts per value of each field, distinct customers and sentiment over time in the configured
    time zone (see the module docstring for how old they may be)."""
    flt = flt or MentionFilter()
    tz = index.settings.timezone
    return freshness.cached(
        shape(index, "overview", flt, fields, interval),  # the zone comes with the config path
        flt.since,
        flt.until,
        lambda: overview(index.es, index.names, flt, fields=fields, interval=interval, tz=tz),
        name=f"{index.names.prefix} overview",
    )


def insights_of(index: Index, flt: MentionFilter, interval: str) -> PeriodInsights:
    """The Insights page's figures of a period in the configured time zone, from two requests
    (`period_insights`); as fresh as `overview_of`."""
    brands = [index.settings.brand.name, *index.settings.brand.competitors]
    tz = index.settings.timezone
    return freshness.cached(
        shape(index, "insights", flt, INSIGHT_FIELDS, interval, tuple(brands)),
        flt.since,
        flt.until,
        lambda: period_insights(index.es, index.names, flt, brands, INSIGHT_FIELDS, interval, tz=tz),
        name=f"{index.names.prefix} insights",
    )


def crm_quality_of(index: Index) -> QualityReport:
    """The CRM data-quality counts without examples or mention counts (the review page has those): only
    the small customer, review and state indices are read."""
    return freshness.cached(
        shape(index, "crm_quality", None),
        None,
        None,
        lambda: crm_quality(index.es, index.names, examples=0, with_mentions=False),
        name=f"{index.names.prefix} CRM quality",
    )


def _index(path: str) -> Index:
    return _open(path)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_PAGES, show_spinner=False)
def _mentions(
    path: str,
    prefix: str,
    flt_key: str,
    size: int,
    order: str,
    facets: tuple[str, ...],
    generation: str,
    _flt: MentionFilter,
) -> MentionPage:
    index = _index(path)
    return search_mentions(index.es, index.names, _flt, size=size, order=order, facets=facets)


def mentions_page(
    index: Index, flt: MentionFilter, size: int, order: str = "newest", facets: tuple[str, ...] = ()
) -> MentionPage:
    """`search_mentions` (with the counts of `facets`, from the same request) as of the current mentions
    generation (one get by id to learn it)."""
    flt, key = _stable(flt)
    generation = mentions_generation(index.es, index.names)
    return _mentions(config_path(), index.names.prefix, key, size, order, facets, generation, flt)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_PAGES, show_spinner=False)
def _overview_and_mentions(
    path: str,
    prefix: str,
    flt_key: str,
    shown: int,
    fields: tuple[str, ...],
    interval: str | None,
    generation: str,
    _flt: MentionFilter,
) -> tuple[Overview, MentionPage]:
    index = _index(path)
    return overview_and_mentions(
        index.es, index.names, _flt, shown, fields, interval, tz=index.settings.timezone
    )


def overview_and_mentions_of(
    index: Index, flt: MentionFilter, shown: int, fields: tuple[str, ...], interval: str | None = None
) -> tuple[Overview, MentionPage]:
    """`overview_and_mentions` in the configured time zone (one request for a page's figures and list),
    exact as of the current mentions generation, like `mentions_page`."""
    flt, key = _stable(flt)
    generation = mentions_generation(index.es, index.names)
    return _overview_and_mentions(
        config_path(), index.names.prefix, key, shown, fields, interval, generation, flt
    )
