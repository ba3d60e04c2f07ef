"""The stream runner: live events -> micro-batches -> Engine.process -> index, then the cursor."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from elasticsearch import Elasticsearch

from ecoute.config import load_settings
from ecoute.engine import Engine
from ecoute.scheduler import schedule_jobs
from ecoute.streams import StreamRunner, stream_sources
from index.client import IndexNames
from index.mentions import count_mentions, get_mention
from index.state import get_state, source_states
from nlp.pipeline import mention_id
from tests.collectors.stream_servers import (
    JetstreamServer,
    LocalHttpServer,
    Reply,
    jetstream_delete,
    jetstream_post,
    sse,
)
from tests.collectors.test_mastodon import TAG_PATH, status
from tests.conftest import write_config

T0 = 1_764_500_000_000_000
DID = "did:plc:r2d2c3poxwing5ywing6tie7"


def firehose(count: int) -> list[dict[str, Any]]:
    """`count` posts, every third one about Lumio (the others are filtered out client-side)."""
    return [
        jetstream_post(T0 + n, DID, f"3ld{n:05d}", f"{'Lumio' if n % 3 == 0 else 'Météo'}: message {n}")
        for n in range(count)
    ]


def lumio_uris(events: list[dict[str, Any]]) -> set[str]:
    return {
        f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}"
        for e in events
        if e["commit"]["operation"] == "create" and "Lumio" in e["commit"]["record"]["text"]
    }


def bluesky_source(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "bsky-live", "type": "bluesky", "stream": True, "jetstream_url": url, "local": True,
        "keywords": ["lumio"], "batch_max_events": 5, "batch_max_seconds": 0.5,
        "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.3, "lease_seconds": 4,
        **overrides,
    }  # fmt: skip


def make_engine(tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, source: dict) -> Engine:
    config = write_config(tmp_path, es_server.url, names.prefix, sources=[source])
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    return engine


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def stored_cursor(es: Elasticsearch, names: IndexNames, source: str) -> dict[str, str]:
    state = get_state(es, names, f"cursor:{source}")
    return dict(state.data) if state else {}


@pytest.fixture
def runners() -> Iterator[list[StreamRunner]]:
    started: list[StreamRunner] = []
    yield started
    for runner in started:
        runner.shutdown()


def test_live_posts_are_indexed_in_batches_and_the_cursor_follows(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    events = firehose(30)
    with JetstreamServer(events) as jetstream:
        engine = make_engine(tmp_path, es_server, es, names, bluesky_source(jetstream.url))
        runner = StreamRunner(engine, "bsky-live")
        runners.append(runner)
        runner.start()
        last = str(events[-1]["time_us"])
        wait_until(
            lambda: stored_cursor(es, names, "bsky-live").get("time_us") == last, "cursor at the last event"
        )
        runner.shutdown()

    assert count_mentions(es, names) == len(lumio_uris(events)) == 10
    for uri in lumio_uris(events):
        assert get_mention(es, names, mention_id("bsky-live", uri)) is not None
    assert runner.batches >= 2  # micro-batches, not one batch at the end
    (health,) = [s.data for s in source_states(es, names) if s.source == "bsky-live"]
    assert health["consecutive_failures"] == 0 and "last_success" in health
    assert not runner.thread or not runner.thread.is_alive()


def test_a_deleted_post_is_removed_from_the_index(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    events = [*firehose(6), jetstream_delete(T0 + 100, DID, "3ld00003")]
    with JetstreamServer(events) as jetstream:
        engine = make_engine(tmp_path, es_server, es, names, bluesky_source(jetstream.url))
        runner = StreamRunner(engine, "bsky-live")
        runners.append(runner)
        runner.start()
        wait_until(
            lambda: stored_cursor(es, names, "bsky-live").get("time_us") == str(T0 + 100), "the delete"
        )
        runner.shutdown()
    assert get_mention(es, names, mention_id("bsky-live", f"at://{DID}/app.bsky.feed.post/3ld00003")) is None
    assert (
        get_mention(es, names, mention_id("bsky-live", f"at://{DID}/app.bsky.feed.post/3ld00000")) is not None
    )
    assert count_mentions(es, names) == 1


def test_a_dropped_connection_reconnects_and_resumes_from_the_stored_cursor(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    events = firehose(24)
    with JetstreamServer(events, drop_after=7) as jetstream:  # the network drops every 7 events
        engine = make_engine(
            tmp_path, es_server, es, names, bluesky_source(jetstream.url, batch_max_events=3)
        )
        runner = StreamRunner(engine, "bsky-live")
        runners.append(runner)
        runner.start()
        last = str(events[-1]["time_us"])
        wait_until(lambda: stored_cursor(es, names, "bsky-live").get("time_us") == last, "every event read")
        runner.shutdown()
        connections = list(jetstream.connections)

    assert len(connections) >= 4
    resumed = [int(c["cursor"]) for c in connections[1:]]
    assert resumed == sorted(resumed) and resumed[0] > T0  # each reconnect starts where the last batch ended
    assert count_mentions(es, names) == len(lumio_uris(events))
    (health,) = [s.data for s in source_states(es, names) if s.source == "bsky-live"]
    assert "stream closed" in health["last_error"]


def test_shutdown_indexes_what_was_read_and_stores_its_cursor(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    events = firehose(9)
    with JetstreamServer(events) as jetstream:
        source = bluesky_source(jetstream.url, batch_max_events=1000, batch_max_seconds=3600)
        engine = make_engine(tmp_path, es_server, es, names, source)
        runner = StreamRunner(engine, "bsky-live")
        runners.append(runner)
        runner.start()
        wait_until(lambda: jetstream.sent == len(events), "every event sent")
        time.sleep(0.5)  # let the runner read them off the socket
        assert count_mentions(es, names) == 0  # a batch this large waits for more
        runner.shutdown()
    assert runner.thread is not None and not runner.thread.is_alive()
    assert count_mentions(es, names) == 3
    assert stored_cursor(es, names, "bsky-live") == {"time_us": str(events[-1]["time_us"])}


def test_a_second_process_does_not_follow_a_stream_another_one_holds(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    with JetstreamServer(firehose(3)) as jetstream:
        engine = make_engine(tmp_path, es_server, es, names, bluesky_source(jetstream.url))
        other = Engine(engine.settings, es, names)
        other.owner = "other-host:4242"
        first, second = StreamRunner(engine, "bsky-live"), StreamRunner(other, "bsky-live")
        runners += [first, second]
        first.start()
        wait_until(lambda: len(jetstream.connections) == 1, "the first connection")
        second.start()
        wait_until(lambda: first.batches >= 1, "a first batch")
        time.sleep(1.0)
        assert len(jetstream.connections) == 1


def test_the_mastodon_stream_indexes_updates_and_applies_deletes(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames, runners: list[StreamRunner]
):
    hold = threading.Event()
    live = [("update", json.dumps(status(3, text="Panne #Lumio en direct"))), ("delete", status(1)["id"])]
    with LocalHttpServer() as server:
        server.route(
            TAG_PATH, lambda seen: Reply(body=[status(1), status(2)] if "min_id" not in seen.query else [])
        )
        server.route("/api/v1/streaming/hashtag", lambda seen: Reply(stream=sse(live, hold)))
        source = {
            "name": "masto-live", "type": "mastodon", "instance": server.url, "hashtags": ["lumio"],
            "stream": True, "local": True, "batch_max_seconds": 0.3, "requests_per_second": 1000,
            "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.3,
        }  # fmt: skip
        engine = make_engine(tmp_path, es_server, es, names, source)
        runner = StreamRunner(engine, "masto-live")
        runners.append(runner)
        runner.start()
        wait_until(
            lambda: (
                stored_cursor(es, names, "masto-live").get("tag:lumio") == status(3)["id"]
                and get_mention(es, names, mention_id("masto-live", status(1)["id"])) is None
            ),
            "the live update and the delete",
        )
        hold.set()
        runner.shutdown()
    assert {
        get_mention(es, names, mention_id("masto-live", status(n)["id"])) is not None for n in (2, 3)
    } == {True}
    assert count_mentions(es, names) == 2


def test_stream_sources_are_followed_not_polled(tmp_path: Path, es_server: Any, es: Elasticsearch, names):
    config = write_config(
        tmp_path,
        es_server.url,
        names.prefix,
        sources=[
            bluesky_source("ws://127.0.0.1:9/subscribe"),
            {"name": "bsky-search", "type": "bluesky", "queries": ["lumio"], "interval_seconds": 600},
            {"name": "feed", "type": "rss", "url": "https://example.org/feed.xml", "jitter_seconds": 0},
        ],
    )
    engine = Engine(load_settings(config), es, names)
    jobs = {job.id: job for job in schedule_jobs(engine, BackgroundScheduler()).get_jobs()}
    assert stream_sources(engine) == ["bsky-live"]
    assert {"source:bsky-search", "source:feed"} <= set(jobs) and "source:bsky-live" not in jobs
    assert jobs["source:bsky-search"].trigger.jitter == 60 and jobs["source:feed"].trigger.jitter is None
    assert jobs["source:bsky-search"].max_instances == 1 and jobs["source:bsky-search"].coalesce is True
