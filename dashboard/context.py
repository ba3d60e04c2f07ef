"""The index a page reads from: settings from $ECOUTE_CONFIG, one cached client, errors shown as one line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from dashboard.render import literal
from dashboard.text import t
from ecoute.config import Settings, load_settings
from ecoute.errors import ConfigError, IndexUnavailableError
from index.client import EmbeddedServer, IndexNames, connect

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
    url = (
        settings.elasticsearch.url
        or EmbeddedServer(settings.resolve(settings.state_dir), settings.elasticsearch.embedded_port).url
    )
    es = connect(url, settings.elasticsearch)
    return Index(es, IndexNames(settings.elasticsearch.index_prefix), settings, url)


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
    """Turn an index failure inside the block into one error line and stop the page, never a traceback."""
    try:
        yield
    except NotFoundError as exc:
        if exc.error == "index_not_found_exception":
            st.info(t("no_indices", prefix=literal(index.names.prefix)))
        else:
            st.error(t("index_refused", url=literal(index.url), reason=literal(_reason(exc))))
        st.stop()
    except (TransportError, IndexUnavailableError) as exc:
        key = "unreachable_embedded" if index.embedded else "unreachable"
        st.error(t(key, url=literal(index.url), reason=literal(_reason(exc))))
        st.stop()
    except ApiError as exc:
        st.error(t("index_refused", url=literal(index.url), reason=literal(_reason(exc))))
        st.stop()


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


def period_picker(key: str, default: str, container=st.sidebar) -> str:
    options = list(PERIODS)
    return container.selectbox(
        t("period"),
        options,
        index=options.index(default),
        format_func=lambda p: t(f"period_{p}"),
        key=key,
    )
