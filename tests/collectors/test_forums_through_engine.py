"""Forum sources through the real engine and index: `--since` reaches the API, the cursor is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from ecoute.config import load_settings
from ecoute.engine import Engine
from index.client import IndexNames
from index.mentions import get_mention
from index.state import get_state
from nlp.pipeline import mention_id
from tests.collectors.conftest import Reply, ScriptedServer, fixture_json
from tests.collectors.test_discourse import Forum
from tests.collectors.test_hackernews import SEARCH, FakeAlgolia, fixture_hits
from tests.conftest import write_config

T = 1764669600


def engine_for(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, sources: list[dict]
) -> Engine:
    fast = {"attempts": 2, "max_wait_seconds": 0.05, "requests_per_second": 1000, "local": True}
    config = write_config(
        tmp_path,
        es_server.url,
        names.prefix,
        sources=[{**fast, **source} for source in sources],
        nlp={"batch_size": 64, "entities": False},
    )
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    return engine


def test_backfill_since_reaches_the_api_and_the_next_run_starts_from_the_stored_cursor(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, http_server: ScriptedServer
):
    http_server.route(SEARCH, FakeAlgolia(fixture_hits()))
    source = {"name": "hn", "type": "hackernews", "queries": ["lumio"], "base_url": http_server.url}
    engine = engine_for(tmp_path, es_server, es, names, [source])

    backfill = engine.collect("hn", since=datetime.fromtimestamp(T - 4000, UTC))
    assert backfill.error is None and backfill.indexed == 3
    assert http_server.seen(SEARCH)[0].arg("numericFilters") == f"created_at_i>={T - 4000}"
    stored = get_state(es, names, "cursor:hn")
    assert stored is not None and stored.data == {"lumio|created": str(T + 900), "lumio|ids": "42311907"}

    again = engine.collect("hn")
    assert (again.fetched, again.indexed, again.error) == (0, 0, None)
    assert http_server.seen(SEARCH)[-1].arg("numericFilters") == f"created_at_i>={T + 900}"


def test_a_backfill_tells_the_pages_it_read_then_the_posts_it_stored(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, http_server: ScriptedServer
):
    http_server.route(SEARCH, FakeAlgolia(fixture_hits()))
    source = {"name": "hn", "type": "hackernews", "queries": ["lumio"], "base_url": http_server.url}
    engine = engine_for(tmp_path, es_server, es, names, [source])
    engine.settings.nlp.batch_size = 2
    heard: list[tuple[str, int, int | None]] = []
    since = datetime.fromtimestamp(T - 4000, UTC)
    report = engine.collect("hn", since=since, progress=lambda *told: heard.append(told))
    assert report.error is None and report.indexed == 3
    pages = [done for step, done, _ in heard if step == "hn: pages read"]
    assert pages == list(range(len(http_server.seen(SEARCH)) + 1))
    assert [told for told in heard if told[0] == "hn: posts stored"] == [
        ("hn: posts stored", 0, 3), ("hn: posts stored", 2, 3), ("hn: posts stored", 3, 3),
    ]  # fmt: skip
    assert heard.index(("hn: pages read", pages[-1], None)) < heard.index(("hn: posts stored", 0, 3))


def test_forum_replies_are_indexed_with_their_thread(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, http_server: ScriptedServer
):
    Forum(http_server)
    source = {"name": "forum", "type": "discourse", "base_url": http_server.url, "queries": ["lumio"]}
    engine = engine_for(tmp_path, es_server, es, names, [source])
    report = engine.collect("forum")
    assert report.error is None and report.indexed == 7
    assert report.problems == ["forum: search:lumio: page 1 hit 3: no post id"]
    reply = get_mention(es, names, mention_id("forum", "5120/3"))
    assert reply is not None
    assert (reply.thread.parent_id, reply.thread.root_id) == ("5120/2", "5120/1")
    health = get_state(es, names, "health:forum")
    assert health is not None and health.data["skipped_items_last_run"] == 1


def test_a_source_that_fails_keeps_its_cursor(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, http_server: ScriptedServer
):
    pages = {"1": fixture_json("stackexchange", "search_page1.json")}
    pages["1"]["has_more"] = False
    http_server.script("/2.3/search/advanced", Reply(200, pages["1"]), Reply(503, "down"))
    http_server.script(
        "/2.3/questions/79230011/answers", Reply(200, fixture_json("stackexchange", "answers.json"))
    )
    source = {"name": "so", "type": "stackexchange", "queries": ["lumio"], "base_url": http_server.url}
    engine = engine_for(tmp_path, es_server, es, names, [source])
    assert engine.collect("so").indexed == 4
    cursor = get_state(es, names, "cursor:so").data
    failed = engine.collect("so")
    assert failed.error and "HTTP 503 after 2 attempts" in failed.error
    assert get_state(es, names, "cursor:so").data == cursor
