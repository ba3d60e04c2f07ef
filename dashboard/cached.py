"""What pages read again and again, cached per index prefix and filter with a short TTL.

Aggregations may be a minute old. Lists of mentions are cached per mentions generation as well: every
write to the mentions (indexing, triage, deletion, a review decision) gives them a new one, so a
change shows on the very next run; the TTL only covers a generation that could not be stored. The
versions triage writes are conditional on (`get_mentions_versioned`) are never cached.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

import streamlit as st

from dashboard.context import Index, _open, config_path
from index.aggregations import AuthorReach, Overview, overview, top_authors
from index.crm import QualityReport, crm_quality
from index.queries import MentionFilter, MentionPage, search_mentions
from index.writes import mentions_generation

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


def _index(path: str) -> Index:
    return _open(path)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _overview(
    path: str, prefix: str, flt_key: str, fields: tuple[str, ...], interval: str | None, _flt: MentionFilter
) -> Overview:
    index = _index(path)
    return overview(index.es, index.names, _flt, fields=fields, interval=interval)


def overview_of(
    index: Index, flt: MentionFilter | None, fields: tuple[str, ...], interval: str | None = None
) -> Overview:
    """Counts per value of each field, distinct customers and sentiment over time, at most TTL old."""
    flt, key = _stable(flt)
    return _overview(config_path(), index.names.prefix, key, fields, interval, flt)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _authors(path: str, prefix: str, flt_key: str, size: int, _flt: MentionFilter) -> list[AuthorReach]:
    index = _index(path)
    return top_authors(index.es, index.names, _flt, size=size)


def authors_by_reach(index: Index, flt: MentionFilter, size: int = 10) -> list[AuthorReach]:
    flt, key = _stable(flt)
    return _authors(config_path(), index.names.prefix, key, size, flt)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _crm_quality(path: str, prefix: str) -> QualityReport:
    index = _index(path)
    return crm_quality(index.es, index.names, examples=0, with_mentions=False)


def crm_quality_of(index: Index) -> QualityReport:
    """The CRM data-quality counts without examples or mention counts (the review page has those),
    at most TTL old: only the small customer, review and state indices are read."""
    return _crm_quality(config_path(), index.names.prefix)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_PAGES, show_spinner=False)
def _mentions(
    path: str, prefix: str, flt_key: str, size: int, order: str, generation: str, _flt: MentionFilter
) -> MentionPage:
    index = _index(path)
    return search_mentions(index.es, index.names, _flt, size=size, order=order)


def mentions_page(index: Index, flt: MentionFilter, size: int, order: str = "newest") -> MentionPage:
    """`search_mentions` as of the current mentions generation (one get by id to learn it)."""
    flt, key = _stable(flt)
    generation = mentions_generation(index.es, index.names)
    return _mentions(config_path(), index.names.prefix, key, size, order, generation, flt)
