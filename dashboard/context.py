"""The index a page reads from: settings from $ECOUTE_CONFIG, one cached client, errors shown as one line."""

from __future__ import annotations

import os
import re
import time as time_module
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import streamlit as st
from elasticsearch import ApiError, ConnectionTimeout, Elasticsearch, NotFoundError, TransportError

from core.errors import ConfigError, IndexUnavailableError
from dashboard.render import literal
from dashboard.text import labels, number, t
from ecoute.config import Settings, load_settings
from index.client import IndexNames, index_url
from index.client import open_index as open_client
from index.query_language import QuerySyntaxError
from index.search_bounds import SearchTooComplexError

PERIODS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "all": None,
}


@dataclass(frozen=True)
class Index:
    es: Elasticsearch
    names: IndexNames
    settings: Settings
    url: str

    @property
    def embedded(self) -> bool:
        return self.settings.elasticsearch.url is None


def config_path() -> str:
    return str(Path(os.environ.get("ECOUTE_CONFIG", "config.yaml")).resolve())


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Index:
    settings = load_settings(path)
    # Every request a page sends waits at most dashboard.request_timeout, whatever the engine's setting;
    # nothing is asked here, so a page says itself when the index is away.
    es = open_client(
        settings, start_embedded=False, check=False, request_timeout=settings.dashboard.request_timeout
    )
    return Index(es, IndexNames.of(settings.elasticsearch, settings.index), settings, index_url(settings))


def configured_index() -> Index:
    """The configured index without checking that it answers (for what must never stop a page)."""
    return _open(config_path())


@dataclass
class LastError:
    """The last index failure a page of this dashboard process met, for the Admin page."""

    at: datetime
    reason: str


_last_errors: dict[str, LastError] = {}


def last_error(index: Index) -> LastError | None:
    return _last_errors.get(index.url)


def _remember(index: Index, exc: Exception) -> str:
    reason = _reason(exc)
    _last_errors[index.url] = LastError(datetime.now(UTC), reason)
    return reason


def settings_or_stop() -> Settings:
    """The validated settings; a broken config.yaml is one error line and the page stops."""
    try:
        return _open(config_path()).settings
    except (ConfigError, ValueError) as exc:  # ValueError: a malformed elasticsearch.url
        st.error(t("config_error", reason=literal(exc)))
        st.stop()


def open_index() -> Index:
    """The configured index, checked to answer; otherwise one error line and the page stops."""
    try:
        index = _open(config_path())
    except (ConfigError, ValueError) as exc:  # ValueError: a malformed elasticsearch.url
        st.error(t("config_error", reason=literal(exc)))
        st.stop()
    with shown_errors(index):
        index.es.info()
    return index


@contextmanager
def shown_errors(index: Index) -> Iterator[None]:
    """Turn an index failure inside the block into one line and stop the page, never a traceback: a
    search over its bounds says which, a slow index says so, an index away says "reconnecting…" and the
    page reruns by itself once it answers again."""
    try:
        yield
    except SearchTooComplexError as exc:
        st.warning(t(f"search_too_{exc.bound}", found=number(exc.found), limit=number(exc.limit)))
        st.stop()
    except QuerySyntaxError as exc:
        st.warning(query_error_text(exc))
        st.code(exc.pointer(), language=None)
        st.stop()
    except NotFoundError as exc:
        if exc.error == "index_not_found_exception":
            st.info(t("no_indices", prefix=literal(index.names.prefix)))
        else:
            st.error(t("index_refused", url=literal(index.url), reason=literal(_remember(index, exc))))
        st.stop()
    except ConnectionTimeout as exc:
        _remember(index, exc)
        seconds = f"{index.settings.dashboard.request_timeout:g}"
        st.error(t("index_slow", url=literal(index.url), seconds=seconds))
        st.stop()
    except (TransportError, IndexUnavailableError) as exc:
        key = "unreachable_embedded" if index.embedded else "unreachable"
        st.warning(t(key, url=literal(index.url), reason=literal(_remember(index, exc))))
        st.session_state[_AWAY_SINCE] = time_module.monotonic()
        _reconnect(index)
        st.stop()
    except ApiError as exc:
        st.error(t("index_refused", url=literal(index.url), reason=literal(_remember(index, exc))))
        st.stop()


def query_error_text(exc: QuerySyntaxError) -> str:
    """A search that cannot be read, in the interface's language, with the character where it is."""
    params = {k: literal(v) for k, v in exc.params.items()}
    problem = t(f"query_error_{exc.code}", **params)
    return t("query_error", problem=problem, position=exc.position + 1)


_AWAY_SINCE = "index_away_since"


def _reconnect(index: Index) -> None:
    """While the page says "reconnecting…": every `dashboard.reconnect_seconds`, ask the index whether it
    is back, and rerun the whole page when it is."""

    every = index.settings.dashboard.reconnect_seconds

    @st.fragment(run_every=every)
    def check() -> None:
        away_since = st.session_state.get(_AWAY_SINCE)
        # Not on the run that just found it away: a page whose own request failed would loop at once.
        if away_since is None or time_module.monotonic() - away_since < every / 2:
            return
        try:
            index.es.info()
        except (ApiError, TransportError):
            return
        st.session_state.pop(_AWAY_SINCE, None)
        st.rerun()

    check()


def _reason(exc: Exception) -> str:
    """The useful end of a client error: 'Connection refused', not a chain of wrapped reprs."""
    if isinstance(exc, ApiError):
        return f"{exc.status_code} {exc.message}"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^)\"']+", text)
    if errno:
        return errno.group(0).strip()
    return getattr(exc, "message", None) or text


def since(period: str, now: datetime | None = None) -> datetime | None:
    """Start of a named period ("24h", "7d", "30d", "90d", "all"); None for all time."""
    delta = PERIODS[period]
    return None if delta is None else (now or datetime.now(UTC)) - delta


CUSTOM = "custom"


@dataclass(frozen=True)
class Window:
    """A span of time a page shows: from `since` (None: the beginning) up to `until` (None: now)."""

    since: datetime | None
    until: datetime | None
    label: str
    slug: str  # for file names

    def before(self, now: datetime | None = None) -> Window | None:
        """The window of the same length just before this one; None for all time."""
        if self.since is None:
            return None
        length = (self.until or now or datetime.now(UTC)) - self.since
        start = self.since - length
        return Window(start, self.since, span_label(start, self.since), span_slug(start, self.since))


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d" if moment.time() == time() else "%Y-%m-%d %H:%M")


def span_label(start: datetime, end: datetime) -> str:
    """'2026-11-01 → 2026-11-30' for whole days (the end shown as the last day included)."""
    if start.time() == time() and end.time() == time():
        return f"{_day(start)} → {_day(end - timedelta(days=1))}"
    return f"{_day(start)} → {_day(end)}"


def span_slug(start: datetime, end: datetime) -> str:
    return span_label(start, end).replace(" → ", "_").replace(" ", "T").replace(":", "")


def days(first: date, last: date) -> Window:
    """From the start of `first` to the end of `last` (UTC), both days included; swapped if reversed."""
    first, last = min(first, last), max(first, last)
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return Window(start, end, span_label(start, end), span_slug(start, end))


def preset(period: str, now: datetime | None = None) -> Window:
    return Window(since(period, now), None, t(f"period_{period}"), period)


def range_value(value: object, fallback: tuple[date, date]) -> tuple[date, date]:
    """A date_input range as (first, last): a range still being picked has only its first day."""
    picked = [d for d in (value if isinstance(value, tuple | list) else [value]) if isinstance(d, date)]
    if not picked:
        return fallback
    return picked[0], picked[-1]


def window_picker(key: str, default: str, container=st.sidebar, label: str | None = None) -> Window:
    """A named period, or "custom dates" with a from-to calendar; the chosen window."""
    options = [*PERIODS, CUSTOM]
    period = container.selectbox(
        label or t("period"),
        options,
        index=options.index(default),
        format_func=labels(options, lambda p: t(f"period_{p}")),
        key=key,
    )
    if period != CUSTOM:
        return preset(period)
    today = datetime.now(UTC).date()
    fallback = (today - timedelta(days=29), today)
    value = date_range_input(container, t("date_range"), fallback, f"{key}_range")
    return days(*range_value(value, fallback))


def date_range_input(container, label: str, fallback: tuple[date, date], key: str) -> object:
    """A from-to calendar; the fallback only when nothing (a saved search, a click) set it before,
    so Streamlit never sees a default and a session value for one widget."""
    today = datetime.now(UTC).date()
    default = {} if key in st.session_state else {"value": fallback}
    return container.date_input(label, max_value=today, format="YYYY-MM-DD", key=key, **default)
