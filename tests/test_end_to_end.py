"""The bundled sample source through the whole chain: collect -> enrich -> index -> alerts."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from elasticsearch import Elasticsearch

from ecoute.config import Settings
from ecoute.engine import Engine
from ecoute.scheduler import schedule_jobs
from index.alerts import list_alerts
from index.client import IndexNames
from index.mention_search import MentionFilter
from index.mentions import count_mentions, get_mention
from index.state import source_states
from tests.conftest import ROOT

SAMPLE = ROOT / "samples" / "mentions.jsonl"
CRM = ROOT / "samples" / "crm_customers.csv"


def sample_lines() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def engine(settings: Settings, es: Elasticsearch, names: IndexNames) -> Engine:
    engine = Engine(settings, es, names)
    engine.prepare()
    return engine


def test_sample_mentions_travel_the_whole_way(engine: Engine, es: Elasticsearch, names: IndexNames):
    written, rejected = engine.import_customers()
    with CRM.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert written + len(rejected) == len(rows) and written >= 50

    report = engine.collect("sample")
    lines = sample_lines()
    assert report.error is None and report.problems == [] and report.failed == []
    assert report.fetched == len(lines) >= 300
    assert count_mentions(es, names) == len(lines)

    # Every post authored by a customer handle is linked to that customer.
    customers_by_handle = {
        row[column].lower(): row["customer_id"]
        for row in rows
        for column in ("mastodon", "bluesky", "reddit")
        if row.get(column)
    }
    authored = [line for line in lines if (line["author"]["handle"] or "").lower() in customers_by_handle]
    assert len(authored) >= 30
    linked = count_mentions(es, names, MentionFilter(customers_only=True))
    assert linked == len(authored)
    one = authored[0]
    mention = get_mention(es, names, engine_mention_id(one["native_id"]))
    assert mention is not None
    assert mention.customer_id == customers_by_handle[one["author"]["handle"].lower()]
    assert mention.link and mention.link.reason.startswith("handle @")

    # Both languages are detected, and enrichment filled every label.
    by_language = {lang: count_mentions(es, names, MentionFilter(languages=[lang])) for lang in ("fr", "en")}
    assert by_language["fr"] > 100 and by_language["en"] > 100

    # "Negative mention or churn risk by a customer" raised alerts, routed to the account owner.
    alerts = [a for a in list_alerts(es, names, size=500) if a.rule == "negative-by-customer"]
    unhappy_linked = count_mentions(es, names, MentionFilter(customers_only=True, sentiments=["negative"]))
    unhappy_linked += count_mentions(es, names, MentionFilter(customers_only=True, intents=["churn_risk"]))
    assert unhappy_linked >= 5
    assert 5 <= len(alerts) <= unhappy_linked
    owners = {row["customer_id"]: row["owner_email"].lower() for row in rows}
    for alert in alerts:
        assert alert.customer_id is not None
        if owners[alert.customer_id]:
            assert alert.recipients == [owners[alert.customer_id]]
        else:
            assert alert.recipients == ["community@lumio.example"]
        alerted = get_mention(es, names, alert.mention_id)
        assert alerted is not None
        assert alerted.sentiment.label == "negative" or alerted.intent.label == "churn_risk"
        assert alerted.customer_id == alert.customer_id

    # Health is recorded for the source.
    (health,) = [s for s in source_states(es, names) if s.source == "sample"]
    assert health.data["consecutive_failures"] == 0 and health.data["items_last_run"] == len(lines)


def engine_mention_id(native_id: str) -> str:
    from nlp.pipeline import mention_id

    return mention_id("sample", native_id)


def test_collecting_again_duplicates_nothing(engine: Engine, es: Elasticsearch, names: IndexNames):
    engine.import_customers()
    engine.collect("sample")
    total, alerts = count_mentions(es, names), len(list_alerts(es, names, size=500))
    again = engine.collect("sample")  # unchanged file: the cursor says there is nothing new
    assert again.fetched == 0
    backfill = engine.collect("sample", since=_long_ago())  # ignores the cursor, re-reads all
    assert backfill.fetched == total and backfill.indexed == 0 and backfill.duplicates == total
    assert count_mentions(es, names) == total
    assert len(list_alerts(es, names, size=500)) == alerts


def test_a_second_process_does_not_run_the_same_source(
    settings: Settings, es: Elasticsearch, names: IndexNames
):
    first, second = Engine(settings, es, names), Engine(settings, es, names)
    first.prepare()
    second.owner = "other-host:4242"
    assert first.collect("sample", use_lock=True).skipped is None
    report = second.collect("sample", use_lock=True)
    assert report.skipped == "another ecoute process holds this source"
    first.release()  # first process stops: the second can take over at once
    assert second.collect("sample", use_lock=True).skipped is None


def test_scheduler_runs_each_enabled_source_on_its_own_interval(engine: Engine):
    scheduler = schedule_jobs(engine, BackgroundScheduler())
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # lumio-news is disabled in config.yaml; the spool replay always runs
    assert set(jobs) == {
        "source:sample",
        "crm:import",
        "spool:replay",
        "alerts:deliver",
        "alerts:spikes",
        "alerts:digest",
    }
    assert jobs["source:sample"].trigger.interval == timedelta(seconds=3600)


def test_a_broken_source_is_recorded_and_the_others_keep_flowing(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    from ecoute.config import load_settings
    from tests.conftest import write_config

    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {"native_id": "g1", "text": "La fibre Lumio est au top", "created_at": "2026-11-20T10:00:00Z"}
        )
        + "\n{not json\n",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        es_server.url,
        names.prefix,
        sources=[
            {"name": "missing", "type": "file", "path": str(tmp_path / "nope.jsonl")},
            {"name": "good", "type": "file", "path": str(good)},
        ],
    )
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    broken = engine.collect("missing")
    assert broken.error and "nope.jsonl" in broken.error and "cannot read file" in broken.error
    fine = engine.collect("good")
    assert (fine.indexed, fine.problems) == (
        1,
        ["good: good.jsonl line 2: not JSON (Expecting property name enclosed in double quotes)"],
    )
    health = {s.source: s.data for s in source_states(es, names)}
    assert health["missing"]["consecutive_failures"] == 1 and "nope.jsonl" in health["missing"]["last_error"]
    assert health["good"]["consecutive_failures"] == 0


def _long_ago():
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)
