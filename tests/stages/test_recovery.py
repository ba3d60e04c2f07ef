"""The recovery stage through the engine, against the stand-in: dead letters retried, and what it tells."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from ecoute.config import Settings
from ecoute.engine import Engine
from index.client import IndexNames
from index.mentions import get_mention
from tests.factories import make_mention


def test_retrying_dead_letters_tells_each_one_enriched_again_then_stores_them(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    engine = Engine(settings, es, names)
    engine.prepare()
    mentions = [make_mention(f"refused{i}") for i in range(3)]
    engine.dead_letters.add(
        [(m.id, "test", "mapper_parsing_exception", m.model_dump(mode="json")) for m in mentions]
    )
    heard: list[tuple[str, int, int | None]] = []
    assert engine.retry_dead_letters(progress=lambda *told: heard.append(told)) == (3, 0)
    assert heard == [("dead letters enriched", n, 3) for n in range(4)]
    assert engine.dead_letters.all() == [] and all(get_mention(es, names, m.id) for m in mentions)
