"""`ecoute collect` killed by SIGKILL at each step, then rerun: each post indexed once, each alert once."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from alerts.rules import rule_matches
from core.documents import Mention
from ecoute.config import load_settings
from index.alerts import ALERTS
from index.client import EmbeddedServer, IndexNames
from index.periods import MENTIONS
from nlp.pipeline import mention_id
from tests.reliability.conftest import ecoute, posts_config, sample_posts
from tests.reliability.proxy import FaultProxy

POSTS = 40


def collect(config: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    return ecoute(config, "collect", "posts", crash_at=crash_at)


def everything(es: Elasticsearch, index: str) -> list[dict]:
    es.indices.refresh(index=index)
    return [h["_source"] for h in es.search(index=index, query={"match_all": {}}, size=1000)["hits"]["hits"]]


def assert_each_post_once_and_each_alert_once(es: Elasticsearch, names: IndexNames, config: Path) -> None:
    mentions = [Mention.model_validate(m) for m in everything(es, MENTIONS.alias(names))]
    assert sorted(m.id for m in mentions) == sorted(
        mention_id("posts", p["native_id"]) for p in sample_posts(POSTS)
    )
    rule = load_settings(config).alerts.rules[0]
    # an alert groups every mention of one burst or cooldown: each matching mention is in exactly one
    alerts = [a for a in everything(es, ALERTS.alias(names)) if a["rule"] == rule.name]
    alerted = [i for a in alerts for i in (a.get("mention_ids") or [a["mention_id"]])]
    assert alerted and sorted(alerted) == sorted(m.id for m in mentions if rule_matches(rule, m))


@pytest.fixture
def proxy(es_server: EmbeddedServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(es_server.url)
    yield proxy
    proxy.close()


def test_a_collect_killed_at_every_step_in_turn_indexes_each_post_once_after_restart(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, forty_posts: Path
):
    config = posts_config(tmp_path, es_server.url, names.prefix, forty_posts)
    # Each run dies at its point during the first batch, before the cursor moves; the next run starts over.
    for point in ("indexed", "alerted", "enriched", "fetched"):
        killed = collect(config, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        assert 0 < len(everything(es, MENTIONS.alias(names))) < POSTS  # the first batch is there, no more
    again = collect(config)
    assert again.returncode == 0, again.stderr
    assert_each_post_once_and_each_alert_once(es, names, config)


def test_killed_after_spooling_and_during_the_replay_then_restarted(
    tmp_path: Path, proxy: FaultProxy, es: Elasticsearch, names: IndexNames, forty_posts: Path
):
    config = posts_config(tmp_path, proxy.url, names.prefix, forty_posts)
    spool = tmp_path / "state" / "spool"
    proxy.faults.bulk_status = 429
    killed = collect(config, crash_at="spooled")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(spool.glob("*.jsonl"))  # the spooled batch survived the kill
    spooled = collect(config)  # the index still refuses: the whole run is spooled
    assert spooled.returncode == 0, spooled.stderr
    assert f"{POSTS} spooled until the index is back" in spooled.stdout
    proxy.heal()
    killed = collect(config, crash_at="replayed")  # dies once the first segment is acknowledged
    assert killed.returncode == -signal.SIGKILL
    assert 0 < len(everything(es, MENTIONS.alias(names))) < POSTS
    again = collect(config)
    assert again.returncode == 0, again.stderr
    assert_each_post_once_and_each_alert_once(es, names, config)
    assert not list(spool.glob("*.jsonl"))
