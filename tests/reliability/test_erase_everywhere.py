"""GDPR erasure finds one person wherever Écoute stored them: every index, the spool, the dead letters,
the webhook spool and the embedded index's own data files; then their name, handle and email are nowhere."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from collectors.webhook import WebhookSpool, spool_path
from core.config import ElasticsearchConfig
from core.documents import Alert, Author, Mention, RawPost, SavedSearch
from ecoute.config import Settings, load_settings
from ecoute.engine import Engine
from ecoute.privacy import Person
from index.alerts import ALERTS, create_alerts
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.mentions import index_mentions
from index.periods import MENTIONS
from index.reviews import list_reviews
from index.searches import save_search
from index.triage import update_triage
from nlp.pipeline import mention_id
from tests.conftest import ROOT, write_config
from tests.dashboard.test_auth_alerts import alert
from tests.factories import make_mention
from tests.reliability.conftest import write_posts
from tests.reliability.proxy import FaultProxy

NAME, HANDLE, EMAIL = "Julie Martin", "julie_m@mastodon.example", "julie.martin@verbena.example"
NEEDLES = [NAME, HANDLE, EMAIL, "julie_m"]


def post(native_id: str, handle: str, text: str, minutes_ago: int, display_name: str | None = None) -> dict:
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "native_id": native_id,
        "platform": "mastodon",
        "url": f"https://{handle.split('@')[1]}/@{handle.split('@')[0]}/{native_id}",
        "author": {"handle": handle, "display_name": display_name, "followers": 120},
        "text": text,
        "created_at": created.isoformat(),
    }


def crm_csv(path: Path) -> Path:
    """The shipped sample CRM plus Julie, with her Mastodon handle and email on record."""
    with (ROOT / "samples" / "crm_customers.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    julie = dict.fromkeys(rows[0], "")
    julie.update(
        customer_id="C-9001",
        first_name="Julie",
        last_name="Martin",
        company="Verbena Studio",
        email=EMAIL,
        mastodon=HANDLE,
        segment="smb",
        owner_name="Amina Benali",
        owner_email="amina.benali@lumio.example",
        language="fr",
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, julie])
    return path


def found_in_index(es: Elasticsearch, prefix: str) -> dict[str, list[str]]:
    """Each needle -> the Écoute indices where a full-text search or the stored documents still hold it."""
    es.indices.refresh(index=f"{prefix}-*")
    indices = sorted(es.indices.get(index=f"{prefix}-*"))
    assert len(indices) >= 10
    found: dict[str, list[str]] = {}
    for index in indices:
        sources = [
            json.dumps(hit["_source"], ensure_ascii=False).lower()
            for hit in es.search(index=index, query={"match_all": {}}, size=10_000)["hits"]["hits"]
        ]
        text_fields, keyword_fields = fields_of(es.indices.get_mapping(index=index)[index]["mappings"])
        for needle in NEEDLES:
            should: list[dict] = [
                {"term": {f: {"value": needle, "case_insensitive": True}}} for f in keyword_fields
            ]
            if text_fields:
                should += [
                    {"query_string": {"query": json.dumps(needle), "fields": text_fields}},
                    {"multi_match": {"query": needle, "type": "phrase", "fields": text_fields}},
                ]
            full_text = es.search(index=index, query={"bool": {"should": should}})["hits"]["total"]["value"]
            if full_text or any(needle.lower() in source for source in sources):
                # by kind: "-mentions" for every period index of the mentions
                kind = re.sub(r"-v\d+(-[0-9.w]+)?$", "", index.removeprefix(prefix))
                found.setdefault(needle, []).append(kind)
    return found


def fields_of(mapping: dict, path: str = "") -> tuple[list[str], list[str]]:
    """(text fields, keyword fields) of an index mapping, sub-fields included."""
    text, keyword = [], []
    for name, spec in mapping.get("properties", {}).items():
        full = f"{path}{name}"
        if spec.get("type") == "text":
            text.append(full)
        elif spec.get("type") == "keyword":
            keyword.append(full)
        for sub, sub_spec in spec.get("fields", {}).items():
            (text if sub_spec.get("type") == "text" else keyword).append(f"{full}.{sub}")
        inner_text, inner_keyword = fields_of(spec, f"{full}.")
        text, keyword = text + inner_text, keyword + inner_keyword
    return text, keyword


def found_on_disk(folder: Path) -> dict[str, list[str]]:
    """Each needle -> the files under `folder` whose bytes hold it (any case)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        for needle in NEEDLES:
            if needle.lower().encode() in data:
                found.setdefault(needle, []).append(str(path.relative_to(folder)))
    return found


@pytest.fixture
def own_index(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """An embedded index whose data lives in the state folder, so erasure is checked on its files too."""
    server = EmbeddedServer(tmp_path / "state", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Planted:
    settings: Settings
    es: Elasticsearch
    names: IndexNames
    state: Path


@pytest.fixture
def planted(tmp_path: Path, own_index: EmbeddedServer) -> Planted:
    """Julie in every place Écoute keeps anything, through the engine where it can put her there:
    her posts and others' naming her or proposed as her, collected; a spike naming her; a post of hers
    spooled while the index refused writes; a dead letter; webhook spool lines; a saved search; team
    notes on others' posts."""
    recent = [
        *(post(f"j{i}", HANDLE, f"Panne Lumio fibre coupée encore ce matin {i}", 5 + i) for i in range(6)),
        # Paul is proposed for a link to Lucy Cox, a customer of the sample CRM, on two posts.
        post(
            "p1", "paul@social.example", f"Lumio en panne chez @{HANDLE} aussi", 20, display_name="Lucy Cox"
        ),
        post("p3", "paul@social.example", "Lumio toujours lent", 21, display_name="Lucy Cox"),
        post("p2", "noa@social.example", f"Écrivez à {EMAIL} pour la panne Lumio", 22),
        post("jm", "jm_1984@social.example", "Lumio fibre coupée, quelle panne", 24, display_name=NAME),
        *(post(f"o{i}", f"user{i}@social.example", f"Lumio panne générale {i}", 30 + i) for i in range(4)),
    ]
    later = [
        post("j-later", HANDLE, "Toujours la panne Lumio", 2),
        post("o-later", "marc@social.example", "Lumio revient enfin", 3),
    ]
    options = {
        "sources": [
            {"name": "posts", "type": "file", "path": str(write_posts(tmp_path / "posts.jsonl", recent))},
            {"name": "later", "type": "file", "path": str(write_posts(tmp_path / "later.jsonl", later))},
        ],
        "nlp": {"batch_size": 10, "entities": False},
        "crm": {"customers_csv": str(crm_csv(tmp_path / "crm.csv"))},
        "alerts": {"spikes": {"weeks": 1, "min_mentions": 5, "min_negative": 3}},
        "reliability": {"bulk_attempts": 1, "bulk_backoff_seconds": 0},
    }
    names = IndexNames("erase")
    settings: Settings = load_settings(write_config(tmp_path, own_index.url, names.prefix, **options))
    es = connect(own_index.url, ElasticsearchConfig())
    engine = Engine(settings, es, names)
    engine.prepare()
    engine.import_customers()
    assert engine.collect("posts").indexed == len(recent)
    spikes = engine.alerter.check_spikes()
    assert any(f"@{HANDLE} (6 posts" in line for a in spikes for line in a.details["explanation"])
    # While the index refuses writes, Julie's newest post waits in the spool.
    proxy = FaultProxy(own_index.url)
    try:
        proxy.faults.bulk_status = 503
        assert (
            Engine(settings, connect(proxy.url, ElasticsearchConfig()), names).collect("later").spooled == 2
        )
    finally:
        proxy.close()
    state = settings.resolve(settings.state_dir)
    julie_doc = es.search(index=MENTIONS.alias(names), query={"term": {"native_id": "j0"}})["hits"]["hits"][0]
    refused = Mention.model_validate(julie_doc["_source"]).model_copy(
        update={"id": "refused-j", "native_id": "jx"}
    )
    engine.dead_letters.add(
        [(refused.id, "posts", "mapper_parsing_exception", refused.model_dump(mode="json"))]
    )
    now = datetime.now(UTC)
    WebhookSpool(spool_path(state, "hook")).append(
        [
            RawPost(
                source="hook",
                platform="mastodon",
                native_id=n,
                author=Author(handle=h, display_name=shown),
                text=t,
                created_at=now,
            )
            for n, h, shown, t in (
                ("w1", HANDLE, None, "Lumio, encore"),
                ("w2", "jm_2@social.example", NAME, "Lumio lent"),  # shown under her name
                ("w3", "noa@social.example", None, f"Lumio : écrire à {EMAIL}"),
                ("w4", "marc@social.example", "Marc", "Lumio ok"),
            )
        ],
        "delivery-1",
        now,
    )
    save_search(
        es,
        names,
        SavedSearch(
            id="s1", owner="cm@lumio.example", name="Julie", filters={"query": f"@{HANDLE}"}, created_at=now
        ),
    )
    # Notes of the team on others' posts: one names her now, one did before it was changed.
    for native_id, notes in (("o0", [f"{NAME} a appelé"]), ("o1", [f"voir @{HANDLE}", "rappelée"])):
        for note in notes:
            current = es.get(index=MENTIONS.alias(names), id=mention_id("posts", native_id))
            version = current["_seq_no"], current["_primary_term"]
            update_triage(es, names, current["_id"], {"note": note}, "cm@lumio.example", *version)
    proposals = {r.author_handle: sorted(r.mention_ids) for r in list_reviews(es, names)}
    assert proposals["paul@social.example"] == sorted(mention_id("posts", n) for n in ("p1", "p3"))
    # Notes of the team on others' posts: one names her now, one did before it was changed.
    for native_id, notes in (("o0", [f"{NAME} a appelé"]), ("o1", [f"voir @{HANDLE}", "rappelée"])):
        for note in notes:
            current = es.get(index=MENTIONS.alias(names), id=mention_id("posts", native_id))
            version = current["_seq_no"], current["_primary_term"]
            update_triage(es, names, current["_id"], {"note": note}, "cm@lumio.example", *version)
    proposals = {r.author_handle: sorted(r.mention_ids) for r in list_reviews(es, names)}
    assert proposals["paul@social.example"] == sorted(mention_id("posts", n) for n in ("p1", "p3"))
    return Planted(settings, es, names, state)


def test_erasing_a_person_leaves_their_name_handle_and_email_nowhere(
    planted: Planted, own_index: EmbeddedServer
):
    es, names, state = planted.es, planted.names, planted.state

    before = found_in_index(es, names.prefix)
    assert {"-mentions", "-alerts", "-customers", "-saved-searches"} <= set(before[HANDLE])
    assert {"-mentions", "-reviews", "-customers"} <= set(before[NAME]) and "-mentions" in before[EMAIL]
    on_disk = set(found_on_disk(state)[HANDLE])
    assert {"dead-letters.jsonl", "webhooks/hook.jsonl"} <= on_disk and any("spool/" in f for f in on_disk)

    counts = Engine(planted.settings, es, names).gdpr().erase(Person(emails=[EMAIL.upper()]))

    assert found_in_index(es, names.prefix) == {}
    kept = {
        h["_source"]["native_id"] for h in es.search(index=MENTIONS.alias(names), size=100)["hits"]["hits"]
    }
    assert kept == {"o0", "o1", "o2", "o3", "p3"}  # everyone else's posts stay
    (paul,) = [r.mention_ids for r in list_reviews(es, names)]
    assert paul == [mention_id("posts", "p3")]  # Paul's proposal stays, without the post naming Julie
    spike = es.search(index=ALERTS.alias(names), query={"term": {"kind": "spike"}})["hits"]["hits"]
    assert spike  # rewritten without her, not deleted: the spike happened
    for hit in spike:
        explanation = hit["_source"]["details"]["explanation"]
        authors = [line for line in explanation if line.startswith("authors")]
        assert authors and authors[0].startswith("authors: @"), explanation  # the others stay
    assert "marc@social.example" in (state / "webhooks" / "hook.jsonl").read_text(encoding="utf-8")
    assert counts["spooled"] == 1 and counts["dead_letters"] == 1 and counts["webhook_copies"] == 3
    assert counts["notes_rewritten"] == 2
    assert (
        counts["alerts_rewritten"] >= 1 and counts["reviews_rewritten"] == 1 and counts["saved_searches"] == 1
    )
    own_index.stop()  # the stand-in writes its data file on the way out: what it holds is on disk now
    assert found_on_disk(state) == {}


def test_an_alert_about_someone_else_keeps_its_other_mentions_without_the_erased_ones(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    marc = make_mention("m1", author={"handle": "marc@social.example"}, text="Lumio, encore en panne.")
    julie = make_mention("j1", author={"handle": HANDLE}, text="Lumio en panne ici aussi.")
    index_mentions(es, names, [marc, julie])
    grouped = alert("m1", "cm@lumio.example", None).model_copy(
        update={"mention_id": marc.id, "mention_ids": [marc.id, julie.id], "count": 2}
    )
    create_alerts(es, names, [grouped])

    Engine(settings, es, names).gdpr().erase(Person(handles=[HANDLE]))

    (kept,) = [
        Alert.model_validate(h["_source"]) for h in es.search(index=ALERTS.alias(names))["hits"]["hits"]
    ]
    assert (kept.id, kept.mention_ids, kept.count) == (grouped.id, [marc.id], 1)
