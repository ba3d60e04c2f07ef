"""Read-only aggregations a page may show a minute old: cached per index prefix and filter, short TTL.

Lists of mentions and triage are never cached: a change must show at once.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

import streamlit as st

from dashboard.context import Index, _open, config_path
from index.aggregations import AuthorReach, Overview, overview, top_authors
from index.crm import QualityReport, crm_quality
from index.queries import MentionFilter

TTL_SECONDS = 60


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
