"""Through the real dashboard: hostile searches get one line and the index lives on; a slow or absent
index gets one line within the dashboard's request timeout, never a hung page or a traceback.

Each test here has a stand-in or a socket of its own, so a search that did crash the index fails only
these tests.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import ElasticsearchConfig
from core.errors import ConfigError
from dashboard.text import t
from ecoute.config import load_settings
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.mentions import index_mentions
from index.schema import ensure_indices
from index.search_bounds import INBOX_SEARCH
from tests.conftest import write_config
from tests.dashboard.helpers import APP, sign_in
from tests.dashboard.test_pages import metric, shown, unescaped
from tests.factories import make_mention

WORDS = ["box", "panne", "fibre", "réseau", "forfait", "facture", "support", "coupure", "lent", "mobile"]

HOSTILE = {
    "10,800 characters": (("lumio panne " * 900)[:10_799] + "!", "search_too_chars", 10_800, 200),
    "900 characters of OR": (
        " OR ".join(WORDS[i % len(WORDS)] for i in range(200))[:900],
        "search_too_chars",
        900,
        200,
    ),
    "500 nested parentheses": ("(" * 500 + "box" + ")" * 500, "search_too_chars", 1003, 200),
    "many wildcards": (" OR ".join(f"{w[:2]}*" for w in WORDS * 20), "search_too_chars", 1396, 200),
    "20 OR'ed words": (" OR ".join(WORDS * 2), "search_too_terms", 20, INBOX_SEARCH.terms),
    "3 wildcards": ("bo* pa* fi*", "search_too_wildcards", 3, 2),
    "deep parentheses": ("((((box))))", "search_too_depth", 4, 3),
}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(tmp_path_factory.mktemp("dashboard-bounds-es"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prefix(own_server: EmbeddedServer) -> str:
    names = IndexNames("dashbounds")
    es = connect(own_server.url, ElasticsearchConfig())
    ensure_indices(es, names)
    texts = [f"La {WORDS[i % 10]} Lumio, {WORDS[(i + 3) % 10]} à Lyon" for i in range(30)]
    index_mentions(es, names, [make_mention(f"m{i}", text=text) for i, text in enumerate(texts)])
    return names.prefix


def open_inbox(monkeypatch: pytest.MonkeyPatch, config: Path) -> AppTest:
    monkeypatch.setenv("ECOUTE_CONFIG", str(config))
    return sign_in(AppTest.from_file(str(APP), default_timeout=20).run(timeout=20))


def test_hostile_searches_in_the_inbox_get_one_line_and_the_index_keeps_answering(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, own_server: EmbeddedServer, prefix: str
):
    at = open_inbox(monkeypatch, write_config(tmp_path, own_server.url, prefix))
    assert metric(at, t("inbox_total")) == "30"
    for name, (search, key, found, limit) in HOSTILE.items():
        at.text_input(key="inbox_query").input(search).run(timeout=20)
        assert not at.exception, name
        assert not at.error, name
        assert [w.value for w in at.warning] == [t(key, found=f"{found:,}", limit=f"{limit:,}")], name
        assert own_server.answers(), name
        assert at.text_input(key="inbox_query").value == search  # nothing typed is lost
    at.text_input(key="inbox_query").input("panne").run(timeout=20)
    assert not at.warning
    assert metric(at, t("inbox_total")) == "6"


@pytest.fixture
def silent_index() -> Iterator[str]:
    """An address that accepts connections and never answers, as a wedged index does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_silent_index_is_one_line_after_the_dashboard_request_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, silent_index: str
):
    config = write_config(tmp_path, silent_index, "ecoute", dashboard={"request_timeout": 1})
    at = open_inbox(monkeypatch, config)  # the sign-in itself needs no index
    assert not at.exception
    (error,) = at.error
    assert unescaped(error.value) == f"The index at {silent_index} did not answer within 1 s: " + (
        "narrow the search or period."
    )


def test_an_index_away_says_reconnecting_and_the_page_still_renders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prefix: str
):
    away = f"http://127.0.0.1:{free_port()}"
    at = open_inbox(monkeypatch, write_config(tmp_path, away, prefix))
    assert not at.exception
    assert not at.error
    (warning,) = at.warning
    assert unescaped(warning.value).startswith(f"The index at {away} is unreachable (")
    assert "Connection refused" in unescaped(warning.value)
    assert unescaped(warning.value).endswith("): reconnecting…")
    # still signed in, no traceback (AppTest lists app.py's sidebar on a tab's first page only)
    assert "auth" in at.session_state and not [x for x in at.title if x.value == t("sign_in_title")]


def test_admin_shows_index_health_and_the_last_error_once_the_index_is_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    server = EmbeddedServer(tmp_path / "es", free_port())
    server.start()
    try:
        names = IndexNames("health")
        es = connect(server.url, ElasticsearchConfig())
        ensure_indices(es, names)
        index_mentions(es, names, [make_mention(f"h{i}") for i in range(3)])
        at = open_inbox(monkeypatch, write_config(tmp_path, server.url, names.prefix))
        at.switch_page("pages/admin.py").run(timeout=20)
        assert not at.exception
        assert "Reachable: noida-db, version 8." in shown(at)
        (counts,) = [d.value for d in at.dataframe if t("index_alias") in d.value.columns]
        documents = dict(zip(counts[t("index_alias")], counts[t("index_documents")], strict=True))
        assert documents["health-mentions"] == "3"
        assert documents["health-customers"] == "0"
        assert t("index_no_error") in [c.value for c in at.caption]

        server.stop()
        at.run(timeout=20)
        (warning,) = at.warning
        assert unescaped(warning.value).endswith("): reconnecting…")

        server.start()
        at.run(timeout=20)
        assert not at.warning and not at.error
        assert "Reachable: noida-db" in shown(at)
        (last,) = [unescaped(c.value) for c in at.caption if "Last index error" in unescaped(c.value)]
        assert last.endswith("Connection refused")
    finally:
        server.stop()


def test_a_request_timeout_of_zero_is_refused_with_its_key(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:9200", "ecoute", dashboard={"request_timeout": 0})
    with pytest.raises(ConfigError, match=r"dashboard\.request_timeout: Input should be greater than 0"):
        load_settings(config)
    assert (
        load_settings(write_config(tmp_path, "http://127.0.0.1:9200", "ecoute")).dashboard.request_timeout
        == 15
    )
