"""Read-only aggregations a page may show a minute old: cached per index prefix and filter, short TTL.

Lists of mentions and triage are never cached: a change must show at once.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

import streamlit as st

from dashboard.context import Index, _open, config_path
from index.aggregations import (
    AuthorReach,
    SentimentBucket,
    counts_by,
    distinct_count,
    sentiment_over_time,
    top_authors,
)
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
def _counts(path: str, prefix: str, field: str, flt_key: str, _flt: MentionFilter | None) -> dict[str, int]:
    index = _index(path)
    return counts_by(index.es, index.names, field, _flt)


def facet_counts(index: Index, field: str, flt: MentionFilter | None = None) -> dict[str, int]:
    """Mentions per value of `field`, at most TTL_SECONDS old."""
    flt, key = _stable(flt)
    return _counts(config_path(), index.names.prefix, field, key, flt)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _distinct(path: str, prefix: str, field: str, flt_key: str, _flt: MentionFilter | None) -> int:
    index = _index(path)
    return distinct_count(index.es, index.names, field, _flt)


def distinct(index: Index, field: str, flt: MentionFilter | None = None) -> int:
    flt, key = _stable(flt)
    return _distinct(config_path(), index.names.prefix, field, key, flt)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _over_time(
    path: str, prefix: str, flt_key: str, interval: str, _flt: MentionFilter
) -> list[SentimentBucket]:
    index = _index(path)
    return sentiment_over_time(index.es, index.names, _flt, interval=interval)


def sentiment_by_period(index: Index, flt: MentionFilter, interval: str = "day") -> list[SentimentBucket]:
    flt, key = _stable(flt)
    return _over_time(config_path(), index.names.prefix, key, interval, flt)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _authors(path: str, prefix: str, flt_key: str, size: int, _flt: MentionFilter) -> list[AuthorReach]:
    index = _index(path)
    return top_authors(index.es, index.names, _flt, size=size)


def authors_by_reach(index: Index, flt: MentionFilter, size: int = 10) -> list[AuthorReach]:
    flt, key = _stable(flt)
    return _authors(config_path(), index.names.prefix, key, size, flt)
