"""The index goes away, answers 429/503 or refuses one document: collection goes on, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from alerts.rules import rule_matches
from core.config import ElasticsearchConfig
from core.documents import Mention
from ecoute.config import Settings, load_settings
from ecoute.engine import Engine
from index.alerts import ALERTS
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.mentions import index_mentions
from index.periods import MENTIONS
from index.schema import ensure_indices
from nlp.pipeline import mention_id
from tests.factories import make_mention
from tests.reliability.conftest import posts_config, sample_posts
from tests.reliability.proxy import FaultProxy


@pytest.fixture
def proxy(es_server: EmbeddedServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(es_server.url)
    yield proxy
    proxy.close()


def stored_mentions(es: Elasticsearch, names: IndexNames) -> list[Mention]:
    es.indices.refresh(index=MENTIONS.alias(names))
    hits = es.search(index=MENTIONS.alias(names), query={"match_all": {}}, size=1000)["hits"]["hits"]
    return [Mention.model_validate(h["_source"]) for h in hits]


def alert_mention_ids(es: Elasticsearch, names: IndexNames, rule: str) -> list[str]:
    es.indices.refresh(index=ALERTS.alias(names))
    hits = es.search(index=ALERTS.alias(names), query={"match_all": {}}, size=1000)["hits"]["hits"]
    # an alert groups every mention of one burst or cooldown: each matching mention is in exactly one
    alerts = [h["_source"] for h in hits if h["_source"]["rule"] == rule]
    return [i for a in alerts for i in (a.get("mention_ids") or [a["mention_id"]])]


def expected_ids(count: int) -> list[str]:
    return [mention_id("posts", p["native_id"]) for p in sample_posts(count)]


@pytest.mark.parametrize(
    "fault",
    [{"fail_after_bulks": 1, "bulk_status": 503}, {"bulk_status": 429}],
    ids=["503-after-first-batch", "429-from-the-start"],
)
def test_rejected_bulks_are_spooled_and_replayed_in_order_once_the_index_is_back(
    fault: dict, proxy: FaultProxy, es: Elasticsearch, names: IndexNames, posts_settings: Settings
):
    engine = Engine(posts_settings, connect(proxy.url, ElasticsearchConfig()), names)
    engine.prepare()
    proxy.faults.fail_after_bulks = fault.get("fail_after_bulks")
    proxy.faults.bulk_status = fault["bulk_status"]
    report = engine.collect("posts")
    indexed_at_once = 10 if "fail_after_bulks" in fault else 0
    assert report.error is None and report.failed == []
    assert (report.indexed, report.spooled) == (indexed_at_once, 40 - indexed_at_once)
    assert len(stored_mentions(es, names)) == indexed_at_once
    spooled = [op.id for segment in engine.spool.segments() for op in engine.spool.read(segment)]
    # Besides the refused batches, a batch whose alerts could not be written waits for its alerts.
    assert set(expected_ids(40)[indexed_at_once:]) <= set(spooled)

    proxy.heal()
    before = len(proxy.mention_bulks(names.prefix))
    again = engine.collect("posts")  # the file is unchanged: the local cursor says nothing is new
    assert again.fetched == 0 and engine.spool.pending() == 0
    stored = stored_mentions(es, names)
    assert sorted(m.id for m in stored) == sorted(expected_ids(40))
    replayed = [i for bulk in proxy.mention_bulks(names.prefix)[before:] for i in bulk.ids]
    assert replayed == spooled  # oldest spooled first, each once
    rule = posts_settings.alerts.rules[0]
    negative = sorted(m.id for m in stored if rule_matches(rule, m))
    assert negative and sorted(alert_mention_ids(es, names, rule.name)) == negative


def test_a_stopped_index_mid_run_loses_nothing(tmp_path: Path, forty_posts: Path):
    server = EmbeddedServer(tmp_path / "es", free_port())
    server.start()
    try:
        names = IndexNames("stopped")
        settings = load_settings(posts_config(tmp_path, server.url, names.prefix, forty_posts))
        es = connect(server.url, ElasticsearchConfig(request_timeout=5))
        engine = Engine(settings, es, names)
        engine.prepare()
        server.stop()
        report = engine.collect("posts")
        assert report.error is None and report.spooled == 40 and report.fetched == 40
        assert "40 spooled until the index is back" in report.line()
        server.start()
        assert engine.replay_spool() == 40
        assert sorted(m.id for m in stored_mentions(es, names)) == sorted(expected_ids(40))
        assert engine.collect("posts").fetched == 0  # the cursor written while the index was away holds
    finally:
        server.stop()


def test_only_the_documents_a_bulk_rejected_are_sent_again(proxy: FaultProxy, names: IndexNames):
    mentions = [make_mention(f"m{i}") for i in range(10)]
    refused = {mentions[2].id, mentions[5].id, mentions[9].id}
    proxy.faults.reject_once = set(refused)
    report = index_mentions(
        connect(proxy.url, ElasticsearchConfig()), names, mentions, attempts=3, backoff_seconds=0
    )
    assert (report.created, report.failed, report.deferred) == (10, [], [])
    first, second = proxy.mention_bulks(names.prefix)
    assert first.ids == [m.id for m in mentions]
    assert second.ids == [m.id for m in mentions if m.id in refused]


def test_a_bulk_still_rejected_after_every_attempt_is_deferred_not_dropped(
    proxy: FaultProxy, names: IndexNames
):
    mentions = [make_mention(f"m{i}") for i in range(4)]
    proxy.faults.bulk_status = 429
    report = index_mentions(
        connect(proxy.url, ElasticsearchConfig()), names, mentions, attempts=2, backoff_seconds=0, defer=True
    )
    assert report.created == 0 and sorted(report.deferred) == sorted(m.id for m in mentions)
    assert "429" in (report.deferred_reason or "")


def test_a_document_the_index_can_never_take_goes_to_the_dead_letters_and_the_rest_flows(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames
):
    from tests.reliability.conftest import write_posts

    posts = sample_posts(5)
    posts[2]["author"]["followers"] = 10**20  # out of range of a long: refused for what it is
    config = posts_config(tmp_path, es_server.url, names.prefix, write_posts(tmp_path / "p.jsonl", posts))
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    report = engine.collect("posts")
    bad = mention_id("posts", posts[2]["native_id"])
    assert report.indexed == 4 and [f.split(":")[0] for f in report.failed] == [bad]
    (letter,) = engine.dead_letters.all()
    assert (
        letter.id == bad
        and "out of range" in letter.reason
        and letter.doc["native_id"] == posts[2]["native_id"]
    )
    assert engine.collect("posts").fetched == 0  # kept in the dead letters, so the cursor moved on
    assert engine.retry_dead_letters() == (0, 1)
    assert engine.dead_letters.all()[0].attempts == 2


def test_dlq_retry_stores_what_an_old_mapping_refused(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames
):
    """An index made by an older Écoute refuses a new field; once the mapping is updated, retry stores it."""
    from index.mappings import mapping_for
    from index.periods import SCHEMA_VERSION
    from tests.reliability.conftest import write_posts
    from tests.test_cli import run

    es.indices.delete(index=",".join(es.indices.get_alias(name=MENTIONS.alias(names))))
    old = mapping_for(Mention)
    del old["properties"]["enriched_at"]
    es.indices.put_index_template(  # as an older Écoute left it: the next period index gets its mapping
        name=f"{MENTIONS.alias(names)}-template",
        index_patterns=[f"{MENTIONS.alias(names)}-v{SCHEMA_VERSION}-*"],
        template={"mappings": old, "aliases": {MENTIONS.alias(names): {}}},
        priority=100,
    )
    es.indices.create(index=f"{MENTIONS.alias(names)}-v{SCHEMA_VERSION}-2000.01")
    config = posts_config(
        tmp_path, es_server.url, names.prefix, write_posts(tmp_path / "p.jsonl", sample_posts(3))
    )
    engine = Engine(load_settings(config), es, names)  # not prepared: the old mapping stays
    report = engine.collect("posts")
    assert report.indexed == 0 and len(report.failed) == 3

    listed = run("dlq", "list", "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "3 mentions in the dead-letter file" in listed.stdout
    assert "strict" in listed.stdout and expected_ids(3)[0] in listed.stdout

    retried = run("dlq", "retry", "--config", str(config), cwd=tmp_path)  # prepares: the mapping is updated
    assert retried.returncode == 0, retried.stderr
    assert "dlq: 3 stored, 0 still refused" in retried.stdout
    assert sorted(m.id for m in stored_mentions(es, names)) == sorted(expected_ids(3))
    assert engine.dead_letters.all() == []
    ensure_indices(es, names)
