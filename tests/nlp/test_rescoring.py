"""Two models through the real engine and stand-in index: fast at ingest, accurate re-scores later.

The accurate model re-scores in the background, newest first, changes only the labels (never triage),
raises an alert once when its labels newly match a rule, and after a kill picks up where it stopped.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import Mention, RawPost
from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from ecoute.rescoring import Rescorer
from index.alerts import ALERTS, list_alerts
from index.client import EmbeddedServer, IndexNames
from index.mentions import get_mentions_versioned
from index.periods import MENTIONS
from index.triage import update_triage
from nlp.classifier import load_classifier, model_dir_for, rescoring_classifier_for
from nlp.language import detect_language, normalise
from nlp.pipeline import full_text
from tests.reliability.conftest import ecoute, posts_config, sample_posts, write_posts

POSTS = 24


def stored(es: Elasticsearch, names: IndexNames) -> list[Mention]:
    es.indices.refresh(index=MENTIONS.alias(names))
    hits = es.search(index=MENTIONS.alias(names), query={"match_all": {}}, size=1000)["hits"]["hits"]
    return [Mention.model_validate(h["_source"]) for h in hits]


def quiet(**rescoring: object) -> dict:
    """The `nlp` block of these tests: no entities (not what is tested), the re-scoring options given."""
    return {"entities": False, "rescoring": rescoring}


def engine_for(config: Path, es: Elasticsearch, names: IndexNames) -> Engine:
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    return engine


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "posts.jsonl", sample_posts(POSTS))


def test_fast_labels_first_then_accurate_newest_first_and_triage_untouched(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, posts_file: Path
):
    engine = engine_for(posts_config(tmp_path, es_server.url, names.prefix, posts_file), es, names)
    report = engine.collect("posts")
    assert report.indexed == POSTS
    first = stored(es, names)
    assert {m.model for m in first} == {"fast"}

    # A community manager triages one mention before the accurate model gets to it.
    target = first[0]
    version = get_mentions_versioned(es, names, [target.id])[target.id]
    update_triage(
        es, names, target.id, {"status": "in_progress", "note": "on it"}, "cm@lumio.example",
        version.seq_no, version.primary_term,
    )  # fmt: skip

    classifier = rescoring_classifier_for(engine.settings)
    assert classifier is not None and classifier.head.name == "accurate"
    worker = Rescorer(engine, classifier)
    worker.batch_size = 5
    assert worker.pending() == POSTS
    one = worker.run_once()
    assert one.rescored == 5
    newest = sorted(first, key=lambda m: (m.created_at, m.id), reverse=True)[:5]
    assert {m.id for m in stored(es, names) if m.model == "accurate"} == {m.id for m in newest}

    worker.run_for(300)
    assert worker.pending() == 0
    after = {m.id: m for m in stored(es, names)}
    assert {m.model for m in after.values()} == {"accurate"}
    # Labels are the accurate model's own; everything else is as ingest and triage left it.
    accurate = load_classifier(str(model_dir_for(engine.settings, "accurate")))
    texts = [normalise(full_text(m.title, m.text)).for_models for m in first]
    predictions = accurate.predict(texts, [m.language for m in first])
    for before, prediction in zip(first, predictions, strict=True):
        now = after[before.id]
        assert now.sentiment == prediction.sentiment
        assert now.text == before.text and now.link == before.link and now.created_at == before.created_at
    assert after[target.id].status == "in_progress" and after[target.id].triage.note == "on it"
    assert [c.field for c in after[target.id].history] == ["status", "note"]


def test_a_triage_save_is_not_a_conflict_when_only_the_labels_changed(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, posts_file: Path
):
    engine = engine_for(posts_config(tmp_path, es_server.url, names.prefix, posts_file), es, names)
    engine.collect("posts")
    mention = stored(es, names)[0]
    opened = get_mentions_versioned(es, names, [mention.id])[mention.id]  # the form is opened
    worker = Rescorer(engine, rescoring_classifier_for(engine.settings))
    worker.run_for(300)  # the background re-score lands while the form is open
    seen = {"status": "new", "assignee": None, "team": None, "tags": [], "note": None}
    update_triage(
        es, names, mention.id, {"status": "answered"}, "cm@lumio.example",
        opened.seq_no, opened.primary_term, seen=seen,
    )  # fmt: skip
    saved = get_mentions_versioned(es, names, [mention.id])[mention.id].mention
    assert saved.status == "answered" and saved.model == "accurate"


def _flipping_post(config: Path) -> tuple[dict, str]:
    """A sample post the fast and accurate models label differently, and the accurate label."""
    settings = load_settings(config)
    fast = load_classifier(str(model_dir_for(settings, "fast")))
    accurate = load_classifier(str(model_dir_for(settings, "accurate")))
    posts = sample_posts(300)
    texts = [normalise(full_text(p.get("title"), p["text"])).for_models for p in posts]
    languages = [detect_language(t, p.get("language_hint")) for t, p in zip(texts, posts, strict=True)]
    for post, a, b in zip(
        posts, fast.predict(texts, languages), accurate.predict(texts, languages), strict=True
    ):
        if a.sentiment.label != b.sentiment.label:
            return post, b.sentiment.label
    raise AssertionError("the two models agree on every sample post")


def test_a_rescore_that_newly_matches_a_rule_alerts_once(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames
):
    probe = posts_config(tmp_path, es_server.url, names.prefix, tmp_path / "none.jsonl")
    post, accurate_label = _flipping_post(probe)
    posts = write_posts(tmp_path / "posts.jsonl", [post])
    rule = {"name": "flip", "sentiment": [accurate_label], "recipients": ["community@lumio.example"]}
    config = posts_config(tmp_path, es_server.url, names.prefix, posts, alerts={"rules": [rule]})
    engine = engine_for(config, es, names)
    engine.collect("posts")
    assert flips(es, names) == 0  # the fast label does not match the rule
    worker = Rescorer(engine, rescoring_classifier_for(engine.settings))
    report = worker.run_for(120)
    assert (report.rescored, report.changed) == (1, 1)
    assert flips(es, names) == 1
    # Re-scoring again (a newer model, a reset) and collecting again never alert twice.
    es.update_by_query(
        index=MENTIONS.alias(names), script={"source": "ctx._source.model = 'fast'"}, refresh=True
    )
    worker.run_for(120)
    engine.collect("posts", since=None)
    assert flips(es, names) == 1


def flips(es: Elasticsearch, names: IndexNames) -> int:
    es.indices.refresh(index=ALERTS.alias(names))
    return sum(a.rule == "flip" for a in list_alerts(es, names))


def test_the_background_worker_wakes_when_new_mentions_are_stored_and_stops_when_asked(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, posts_file: Path
):
    config = posts_config(tmp_path, es_server.url, names.prefix, posts_file, nlp=quiet(idle_seconds=600))
    engine = engine_for(config, es, names)
    stop = threading.Event()
    worker = Rescorer(engine, rescoring_classifier_for(engine.settings))
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(2)  # nothing to re-score: the worker now sleeps up to idle_seconds (10 minutes)
        engine.collect("posts")  # storing wakes it at once
        deadline = time.monotonic() + 240
        while worker.pending() and time.monotonic() < deadline:
            time.sleep(1)
        assert worker.pending() == 0
        line = {k: v for k, v in sample_posts(POSTS + 1)[-1].items() if k != "expected"}
        engine.process([RawPost.model_validate({**line, "source": "posts"})], RunReport(source="posts"))
        deadline = time.monotonic() + 120
        while worker.pending() and time.monotonic() < deadline:
            time.sleep(1)
        assert worker.pending() == 0 and {m.model for m in stored(es, names)} == {"accurate"}
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def rescore(config: Path, crash_at: str | None = None) -> subprocess.CompletedProcess:
    return ecoute(config, "nlp", "rescore", crash_at=crash_at)


def test_rescoring_killed_midway_resumes_from_the_index_after_restart(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, posts_file: Path
):
    config = posts_config(tmp_path, es_server.url, names.prefix, posts_file, nlp=quiet(batch_size=8))
    engine_for(config, es, names).collect("posts")
    for point in ("rescored", "relabelled"):  # before, then right after, a batch's labels are stored
        killed = rescore(config, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    models = [m.model for m in stored(es, names)]
    assert models.count("accurate") == 8  # the one batch stored before the second kill, no more
    again = rescore(config)
    assert again.returncode == 0, again.stderr
    assert f"re-scored {POSTS - 8} mentions with accurate" in again.stdout and "0 left" in again.stdout
    assert {m.model for m in stored(es, names)} == {"accurate"}
