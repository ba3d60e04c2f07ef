"""Kill `ecoute` with SIGKILL in the middle of a batch, start it again: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from index.client import IndexNames
from index.mentions import count_mentions
from index.periods import MENTIONS
from index.state import get_state
from tests.collectors.stream_servers import JetstreamServer, LocalHttpServer
from tests.collectors.test_mastodon import TAG_PATH, Timeline, status
from tests.collectors.test_streams import T0, bluesky_source, firehose, lumio_uris
from tests.conftest import write_config

ECOUTE = [sys.executable, "-m", "ecoute"]


def indexed_native_ids(es: Elasticsearch, names: IndexNames) -> list[str]:
    hits = es.search(index=MENTIONS.alias(names), query={"match_all": {}}, size=5000, source=["native_id"])
    return [h["_source"]["native_id"] for h in hits["hits"]["hits"]]


def stored_mentions(es: Elasticsearch, names: IndexNames) -> int:
    """Mentions written so far, searchable or not: the engine refreshes once per run, not per batch."""
    es.indices.refresh(index=MENTIONS.alias(names))
    return count_mentions(es, names)


def kill_when(process: subprocess.Popen, ready: Any, timeout: float = 180.0) -> None:
    """SIGKILL `process` as soon as `ready()` holds (checked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "ecoute ended before it could be killed"
        assert time.monotonic() < deadline, "ecoute never got that far"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_collect_killed_mid_batch_loses_and_duplicates_nothing_when_rerun(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames
):
    statuses = [status(n) for n in range(1, 201)]
    with LocalHttpServer() as server:
        server.route(TAG_PATH, Timeline(server, TAG_PATH, statuses))
        source = {
            "name": "masto", "type": "mastodon", "instance": server.url, "hashtags": ["lumio"], "local": True,
            "page_size": 40, "max_pages": 10, "requests_per_second": 1000,
        }  # fmt: skip
        config = write_config(
            tmp_path, es_server.url, names.prefix, sources=[source], nlp={"batch_size": 8, "entities": False}
        )
        command = [*ECOUTE, "collect", "masto", "--config", str(config)]
        first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_when(first, lambda: stored_mentions(es, names) >= 8)
        at_kill = stored_mentions(es, names)
        assert 0 < at_kill < len(statuses)  # killed in the middle of the batch
        assert get_state(es, names, "cursor:masto") is None  # the cursor waits for the whole batch

        again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert f"masto: 200 fetched, {200 - at_kill} new, {at_kill} already indexed" in again.stdout

    native_ids = indexed_native_ids(es, names)
    assert count_mentions(es, names) == len(native_ids) == len(set(native_ids)) == len(statuses)
    assert set(native_ids) == {s["id"] for s in statuses}
    state = get_state(es, names, "cursor:masto")
    assert state is not None and state.data == {"tag:lumio": status(200)["id"]}


def test_a_stream_killed_mid_stream_resumes_from_its_cursor_without_loss_or_duplicates(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames
):
    events = firehose(240)
    expected = lumio_uris(events)
    with JetstreamServer(events, pause=0.01) as jetstream:
        source = bluesky_source(jetstream.url, lease_seconds=3)
        config = write_config(
            tmp_path, es_server.url, names.prefix, sources=[source], nlp={"batch_size": 16, "entities": False}
        )
        command = [*ECOUTE, "run", "--no-dashboard", "--config", str(config)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        first = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def cursor() -> str | None:
            state = get_state(es, names, "cursor:bsky-live")
            return state.data.get("time_us") if state else None

        kill_when(first, lambda: cursor() is not None and count_mentions(es, names) >= 10)
        resume_from = cursor()
        assert resume_from is not None and int(resume_from) < events[-1]["time_us"]  # killed mid-stream

        second = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 180
            while cursor() != str(events[-1]["time_us"]):
                assert second.poll() is None, second.stdout.read() if second.stdout else ""
                assert time.monotonic() < deadline, "the restarted stream never reached the last event"
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            output = second.communicate(timeout=60)[0].decode()
        connections = list(jetstream.connections)

    assert second.returncode == 0, output
    assert "bsky-live: following the live stream" in output
    assert (
        len(connections) == 2 and connections[1]["cursor"] == resume_from
    )  # Jetstream replayed from the stored cursor
    native_ids = indexed_native_ids(es, names)
    assert count_mentions(es, names) == len(native_ids) == len(set(native_ids)) == len(expected) == 80
    assert set(native_ids) == expected
    assert int(resume_from) > T0
