"""The journal of writes the stand-in acknowledged but may not have saved yet, and erasure."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from ecoute.config import Settings
from ecoute.engine import UNKNOWN_PROCESS, Engine
from ecoute.privacy import Person
from ecoute.spool import SpooledOp
from index.client import IndexNames
from index.periods import MENTIONS
from tests.factories import make_mention


def ids(es: Elasticsearch, index: str) -> set[str]:
    es.indices.refresh(index=index)
    return {h["_id"] for h in es.search(index=index, query={"match_all": {}}, size=1000)["hits"]["hits"]}


def journaled(engine: Engine) -> list[str]:
    return [op.id for segment in engine.journal.segments() for op in engine.journal.read(segment)]


def test_erasing_a_person_takes_them_out_of_the_journal_too(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    engine = Engine(settings, es, names)
    engine.prepare()
    julie = make_mention("j1", author={"handle": "julie_m", "display_name": "Julie"})
    marc = make_mention("m1", author={"handle": "marc", "display_name": "Marc"})
    engine.journal.append(
        [SpooledOp(op="create", id=m.id, source="t", doc=m.model_dump(mode="json")) for m in (julie, marc)],
        tag=UNKNOWN_PROCESS,
    )
    engine.gdpr().erase(Person(handles=["julie_m"]))
    assert journaled(engine) == [marc.id]
    engine.confirm_journal()  # a replay after the erasure must not bring her back
    assert ids(es, MENTIONS.alias(names)) == {marc.id}
