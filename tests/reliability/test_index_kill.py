"""The index process itself (the embedded stand-in) killed by SIGKILL under a running `ecoute run`:
it is started again on its data, and every post it had acknowledged is there in the end, once, with
each alert once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from elasticsearch import Elasticsearch

from alerts.rules import rule_matches
from core.config import ElasticsearchConfig
from core.documents import Mention
from ecoute.config import Settings, load_settings
from index.client import EmbeddedServer, connect, free_port
from nlp.pipeline import mention_id
from tests.reliability.conftest import posts_config, sample_posts, write_posts

PREFIX = "kill"
RESTARTED = "index: the embedded stand-in had stopped; restarted on its data"


class Running:
    """`ecoute run --no-dashboard` in a process of its own, its output lines collected as they come."""

    def __init__(self, config: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ecoute", "run", "--no-dashboard", "--config", str(config)],
            cwd=config.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "posts.jsonl", [])


@pytest.fixture
def settings(tmp_path: Path, feed: Path) -> Settings:
    """The posts source every 5 s, the index watched every half second, the stand-in Écoute's own;
    labels are not re-scored in the background (a re-scored mention may no longer match its alert)."""
    config = posts_config(
        tmp_path,
        "http://unused",
        PREFIX,
        feed,
        sources=[{"name": "posts", "type": "file", "path": str(feed), "interval_seconds": 5}],
        nlp={"batch_size": 10, "entities": False, "models": ["fast"]},  # no re-scoring: alerts stay put
        reliability={
            "bulk_attempts": 2,
            "bulk_backoff_seconds": 0,
            "replay_seconds": 5,
            "index_watch_seconds": 0.5,
        },
    )
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["elasticsearch"] = {"index_prefix": PREFIX, "embedded_port": free_port()}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_settings(config)


@pytest.fixture
def server(settings: Settings) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(settings.resolve(settings.state_dir), settings.elasticsearch.embedded_port)
    yield server
    server.stop()


@pytest.fixture
def running(settings: Settings, server: EmbeddedServer) -> Iterator[Running]:
    run = Running(settings.base_dir / "config.yaml")
    yield run
    run.stop()
    (settings.base_dir / "run.log").write_text("\n".join(run.lines), encoding="utf-8")  # to read on failure


def wait_until(check: Callable[[], bool], what: str, run: Running, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if run.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen; ecoute run said:\n{run.output()}")
        time.sleep(0.1)


def mentions_counted(server: EmbeddedServer) -> int:
    try:
        answer = httpx.get(f"{server.url}/{PREFIX}-mentions/_count", timeout=2)
        return int(answer.json()["count"])
    except (httpx.HTTPError, KeyError, ValueError):
        return -1


def kill_index(server: EmbeddedServer, run: Running) -> None:
    """SIGKILL the stand-in (no chance to save), then wait for `ecoute run` to start a new one."""
    pid = server.pid()
    assert pid is not None, run.output()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: server.pid() not in (None, pid) and server.answers(), "the index restarted", run)


def everything(es: Elasticsearch, index: str) -> list[dict]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"match_all": {}}, size=10_000)["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def test_ecoute_run_restarts_a_killed_index_and_indexes_the_posts_that_come_after(
    feed: Path, server: EmbeddedServer, running: Running
):
    posts = sample_posts(40)
    write_posts(feed, posts[:20])
    wait_until(lambda: mentions_counted(server) == 20, "the first 20 posts indexed", running)
    kill_index(server, running)
    write_posts(feed, posts)
    wait_until(lambda: mentions_counted(server) == 40, "the 20 posts that came after indexed", running)
    assert sum(RESTARTED in line for line in running.lines) == 1, running.output()


def test_killing_the_index_at_random_moments_of_ingest_loses_nothing_and_alerts_once(
    feed: Path, settings: Settings, server: EmbeddedServer, running: Running
):
    seed = int(os.environ.get("ECOUTE_KILL_SEED", time.time_ns() % 1_000_000))
    chance = random.Random(seed)
    rounds, per_round = 10, 30
    posts = sample_posts(rounds * per_round)
    wait_until(server.answers, "the index started", running)
    for round_ in range(rounds):
        write_posts(feed, posts[: (round_ + 1) * per_round])  # new posts arrive each round
        # At a random moment once the round's ingest is under way (a collect runs every 5 s).
        wait_until(
            lambda r=round_: mentions_counted(server) > r * per_round, f"round {round_} ingest", running
        )
        time.sleep(chance.uniform(0, 1.5))
        kill_index(server, running)
    wait_until(lambda: mentions_counted(server) == len(posts), f"seed {seed}: all posts indexed", running)
    kill_index(server, running)  # once more, right after the last acknowledged writes
    wait_until(lambda: mentions_counted(server) == len(posts), f"seed {seed}: all posts still there", running)
    assert sum(RESTARTED in line for line in running.lines) == rounds + 1, running.output()

    es = connect(server.url, ElasticsearchConfig())
    mentions = [Mention.model_validate(m) for m in everything(es, f"{PREFIX}-mentions")]
    ids = sorted(m.id for m in mentions)
    assert ids == sorted(mention_id("posts", p["native_id"]) for p in posts), (
        f"seed {seed}"
    )  # 0 lost, 0 twice
    rule = settings.alerts.rules[0]
    matching = sorted(m.id for m in mentions if rule_matches(rule, m))

    def alerted() -> list[str]:
        alerts = [a for a in everything(es, f"{PREFIX}-alerts") if a["rule"] == rule.name]
        return sorted(i for a in alerts for i in (a.get("mention_ids") or [a["mention_id"]]))

    # Each matching mention in exactly one alert: none lost with the index, none raised twice on replay
    # (the alerts of a replayed batch follow its mentions by a moment).
    wait_until(lambda: alerted() == matching, f"seed {seed}: each alert once", running, timeout=30)
    assert matching and alerted() == matching
