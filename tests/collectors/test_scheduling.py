"""Source leases in the index: atomic, and two schedulers sharing one index never run one source twice."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from elasticsearch import Elasticsearch, NotFoundError

from core.documents import SourceState
from ecoute.config import load_settings
from ecoute.engine import Engine
from ecoute.scheduler import schedule_jobs
from index.client import IndexNames
from index.state import STATE, acquire_lock, put_state
from tests.collectors.stream_servers import LocalHttpServer, Reply, Seen
from tests.collectors.test_mastodon import TAG_PATH, status
from tests.conftest import write_config


def race(es: Elasticsearch, names: IndexNames, contenders: int) -> list[str]:
    """Every contender tries to take the same lease at the same instant; returns who got it."""
    start = threading.Barrier(contenders)
    winners: list[str] = []

    def contend(owner: str) -> None:
        start.wait()
        if acquire_lock(es, names, "source:raced", owner, timedelta(seconds=30)):
            winners.append(owner)

    threads = [threading.Thread(target=contend, args=(f"host-{n}:1",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return winners


def test_only_one_of_many_racing_processes_takes_a_free_lease(es: Elasticsearch, names: IndexNames):
    assert len(race(es, names, 8)) == 1


def test_only_one_of_many_racing_processes_takes_over_an_expired_lease(es: Elasticsearch, names: IndexNames):
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    lease = SourceState(
        id="lock:source:raced",
        kind="lock",
        source="source:raced",
        owner="crashed:99",
        until=long_ago,
        updated_at=long_ago,
    )
    put_state(es, names, lease)
    assert len(race(es, names, 8)) == 1


def test_a_live_lease_is_kept_from_others_and_renewed_by_its_owner(es: Elasticsearch, names: IndexNames):
    assert acquire_lock(es, names, "source:x", "a:1", timedelta(seconds=30))
    assert not acquire_lock(es, names, "source:x", "b:2", timedelta(seconds=30))
    assert acquire_lock(es, names, "source:x", "a:1", timedelta(seconds=30))


class SlowTimeline:
    """A Mastodon hashtag timeline that takes longer to answer than the lease lasts, and notes who held
    the lease when each request began and ended."""

    def __init__(self, es: Elasticsearch, names: IndexNames, seconds: float) -> None:
        self.es, self.names, self.seconds = es, names, seconds
        self.calls: list[tuple[float, float, str | None, str | None]] = []
        self.served = 0

    def holder(self) -> str | None:
        try:
            return self.es.get(index=STATE.alias(self.names), id="lock:source:slow")["_source"]["owner"]
        except NotFoundError:
            return None

    def __call__(self, seen: Seen) -> Reply:
        began, holder_then = time.monotonic(), self.holder()
        time.sleep(self.seconds)
        self.served += 1
        self.calls.append((began, time.monotonic(), holder_then, self.holder()))
        return Reply(body=[status(self.served)])


def test_two_schedulers_never_run_one_source_twice(
    tmp_path: Path, es_server: Any, es: Elasticsearch, names: IndexNames
):
    timeline = SlowTimeline(es, names, seconds=6.5)  # longer than the 5 s lease a 5 s interval gets
    with LocalHttpServer() as server:
        server.route(TAG_PATH, timeline)
        source = {
            "name": "slow", "type": "mastodon", "instance": server.url, "hashtags": ["lumio"], "local": True,
            "interval_seconds": 5, "jitter_seconds": 0, "max_pages": 1, "requests_per_second": 1000,
        }  # fmt: skip
        settings = load_settings(write_config(tmp_path, es_server.url, names.prefix, sources=[source]))
        engines = [Engine(settings, es, names), Engine(settings, es, names)]
        engines[1].owner = "second-machine:4242"
        engines[0].prepare()
        schedulers = [schedule_jobs(engine, BackgroundScheduler(timezone=UTC)) for engine in engines]
        for scheduler in schedulers:
            scheduler.start()
        deadline = time.monotonic() + 180
        while len(timeline.calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        most_at_once = server.most_in_flight[TAG_PATH]

    assert len(timeline.calls) >= 3
    assert most_at_once == 1  # the slow source's endpoint was never hit by both at once
    calls = sorted(timeline.calls)
    for (_, ended, _, _), (began, _, _, _) in zip(calls, calls[1:], strict=False):
        assert began >= ended
    # The lease never changed hands while a run was under way.
    assert all(before == after and before in {e.owner for e in engines} for _, _, before, after in calls)
