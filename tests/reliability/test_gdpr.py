"""GDPR: erasure and export of one person everywhere Écoute keeps data, retention, pseudonyms, deletions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import CrmRecord, CustomerLink, LinkReview, document_id
from core.errors import ConfigError
from core.names import author_key
from ecoute.config import Settings, load_settings
from ecoute.engine import Engine
from ecoute.privacy import Person, pseudonym
from ecoute.spool import SpooledOp
from index.alerts import ALERTS, create_alerts
from index.client import IndexNames
from index.crm import CRM_RECORDS, put_crm_records
from index.customers import CUSTOMERS, upsert_customers
from index.mentions import index_mentions
from index.periods import MENTIONS, period_index, period_indices
from index.privacy import audit_records
from index.reviews import REVIEWS, review_id
from tests.dashboard.test_auth_alerts import alert
from tests.factories import NOW, make_customer, make_mention
from tests.reliability.conftest import posts_config, sample_posts, write_posts

JULIE = "Julie_M@mastodon.example"
KEY = "test-pseudonym-key"


def ids(es: Elasticsearch, index: str) -> set[str]:
    es.indices.refresh(index=index)
    return {h["_id"] for h in es.search(index=index, query={"match_all": {}}, size=1000)["hits"]["hits"]}


def by(native_id: str, handle: str, **overrides) -> object:
    return make_mention(native_id, author={"handle": handle, "display_name": "X"}, **overrides)


@pytest.fixture
def held(es: Elasticsearch, names: IndexNames, settings: Settings) -> dict:
    """Julie's data wherever Écoute keeps any (index, spool, dead letters, webhook spool), and others'."""
    customer = make_customer("C1", email="julie.martin@client.example", handles=[JULIE.lower()])
    upsert_customers(
        es, names, [customer, make_customer("C2", email="marc@client.example", handles=["marc"])]
    )
    put_crm_records(
        es,
        names,
        [
            CrmRecord(id="crm-1", kind="interaction", source="crm", native_id="T1", customer_id="C1"),
            CrmRecord(id="crm-2", kind="interaction", source="crm", native_id="T2", customer_id="C2"),
        ],
    )
    julie = [
        by("j1", JULIE),
        by("j2", "@julie_m@mastodon.example"),
        by("j3", "someone-else", customer_id="C1"),
    ]
    others = [by("o1", "marc"), by("o2", "paul@mastodon.example")]
    index_mentions(es, names, julie + others)
    create_alerts(es, names, [alert("j1", "cm@lumio.example", None), alert("o1", "cm@lumio.example", None)])
    link = CustomerLink(customer_id="C1", method="fuzzy", confidence=0.7, reason="name: Julie Martin")
    reviews = [
        LinkReview(
            id=review_id(author_key("mastodon", handle), customer_id),
            author_key=author_key("mastodon", handle),
            platform="mastodon",
            author_handle=handle.lower(),
            customer_id=customer_id,
            customer_name="Julie Martin" if customer_id == "C1" else "Marc Petit",
            confidence=link.confidence,
            reason=link.reason,
            mention_ids=[mention.id],
            created_at=NOW,
            updated_at=NOW,
        )
        for handle, mention, customer_id in (
            (JULIE, julie[0], "C1"),
            ("paul@mastodon.example", others[1], "C2"),
        )
    ]
    for review in reviews:
        es.index(
            index=REVIEWS.alias(names), id=review.id, document=review.model_dump(mode="json"), refresh=True
        )
    engine = Engine(settings, es, names)
    spooled = [by("j4", JULIE), by("o3", "marc")]
    engine.spool.append(
        [SpooledOp(op="create", id=m.id, source="test", doc=m.model_dump(mode="json")) for m in spooled]
    )
    refused = [by("j5", JULIE.upper()), by("o4", "marc")]
    engine.dead_letters.add([(m.id, "test", "mapping", m.model_dump(mode="json")) for m in refused])
    webhooks = settings.resolve(settings.state_dir) / "webhooks" / "hook.jsonl"
    webhooks.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "received_at": NOW.isoformat(),
            "delivery": d,
            "post": {"native_id": n, "author": {"handle": h}, "text": t},
        }
        for d, n, h, t in (("d1", "w1", JULIE, "Julie's post"), ("d2", "w2", "marc", "Marc's post"))
    ]
    webhooks.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return {
        "engine": engine,
        "julie": [m.id for m in julie],
        "others": [m.id for m in others],
        "spooled": [m.id for m in spooled],
        "refused": [m.id for m in refused],
        "reviews": [r.id for r in reviews],
        "webhooks": webhooks,
    }


def test_erasing_an_author_removes_every_copy_and_leaves_everyone_else(
    es: Elasticsearch, names: IndexNames, held: dict
):
    engine: Engine = held["engine"]
    counts = engine.gdpr().erase(Person(handles=["@julie_m@MASTODON.example"]))
    # By handle, the CRM contact with that handle is found too, and with it what is linked to it.
    assert ids(es, MENTIONS.alias(names)) == set(held["others"])
    assert ids(es, ALERTS.alias(names)) == {document_id("alert", "o1")}
    assert ids(es, REVIEWS.alias(names)) == {held["reviews"][1]}
    assert ids(es, CUSTOMERS.alias(names)) == {"C2"} and ids(es, CRM_RECORDS.alias(names)) == {"crm-2"}
    waiting = [op.id for segment in engine.spool.segments() for op in engine.spool.read(segment)]
    assert waiting == [held["spooled"][1]]
    assert [letter.id for letter in engine.dead_letters.all()] == [held["refused"][1]]
    kept = held["webhooks"].read_text(encoding="utf-8")
    assert "Julie" not in kept and "Marc's post" in kept
    assert len(kept.encode()) == len(held["webhooks"].read_bytes())  # offsets of later lines unchanged
    assert counts["mentions"] == 3 and counts["spooled"] == 1 and counts["dead_letters"] == 1
    (record,) = audit_records(es, names, "erase")
    assert record.counts == counts and record.subject_digest
    assert "julie" not in json.dumps(record.model_dump(mode="json")).lower()  # the audit keeps no identity


def test_erasing_by_email_from_the_command_line(
    es: Elasticsearch, names: IndexNames, held: dict, settings_file: Path, tmp_path: Path
):
    from tests.test_cli import run

    result = run(
        "gdpr",
        "erase",
        "--email",
        "JULIE.MARTIN@client.example",
        "--config",
        str(settings_file),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("erased: 3 mentions, 1 alerts, 1 reviews, 1 crm records, 1 customers")
    assert ids(es, MENTIONS.alias(names)) == set(held["others"]) and ids(es, CUSTOMERS.alias(names)) == {"C2"}
    assert len(audit_records(es, names, "erase")) == 1


def test_export_holds_everything_about_the_person_and_is_audited(
    es: Elasticsearch, names: IndexNames, held: dict, settings_file: Path, tmp_path: Path
):
    from tests.test_cli import run

    out = tmp_path / "julie.json"
    result = run(
        "gdpr", "export", "--author", JULIE, "--out", str(out), "--config", str(settings_file), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(m["id"] for m in data["mentions"]) == sorted(held["julie"])
    assert [c["customer_id"] for c in data["customers"]] == ["C1"]
    assert [r["id"] for r in data["crm_records"]] == ["crm-1"]
    assert [r["id"] for r in data["link_reviews"]] == [held["reviews"][0]]
    assert [a["mention_id"] for a in data["alerts"]] == [held["julie"][0]]
    assert [m["id"] for m in data["spooled_mentions"]] == [held["spooled"][0]]
    assert [m["id"] for m in data["dead_letters"]] == [held["refused"][0]]
    assert [p["text"] for p in data["received_by_webhook"]] == ["Julie's post"]
    assert "Marc" not in out.read_text(encoding="utf-8")
    assert len(audit_records(es, names, "export")) == 1
    assert ids(es, MENTIONS.alias(names)) >= set(held["julie"])  # exporting deletes nothing


def test_retention_deletes_only_the_sources_old_mentions_and_their_alerts(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    config = write_posts(tmp_path / "p.jsonl", [])
    settings = load_settings(
        posts_config(tmp_path, es_server.url, names.prefix, config, privacy={"retention_days": {"test": 30}})
    )
    now = datetime.now(UTC)
    old, recent = (
        by("old", "a", created_at=now - timedelta(days=31)),
        by("new", "a", created_at=now - timedelta(days=29)),
    )
    other_source = make_mention(
        "other", source="posts", id=document_id("posts", "other"), created_at=now - timedelta(days=400)
    )
    index_mentions(es, names, [old, recent, other_source])
    create_alerts(es, names, [alert("old", "cm@lumio.example", None), alert("new", "cm@lumio.example", None)])
    engine = Engine(settings, es, names)
    assert engine.gdpr().apply_retention(["test", "posts"]) == {"test": 1}
    assert ids(es, MENTIONS.alias(names)) == {recent.id, other_source.id}
    assert ids(es, ALERTS.alias(names)) == {document_id("alert", "new")}
    (record,) = audit_records(es, names, "retention")
    assert record.counts["mentions"] == 1 and "30 days" in record.scope


def test_retention_drops_whole_months_of_alerts_and_audits_them(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    config = write_posts(tmp_path / "p.jsonl", [])
    settings = load_settings(
        posts_config(tmp_path, es_server.url, names.prefix, config, privacy={"retention_days": {"test": 30}})
    )
    now = datetime.now(UTC)
    old = by("old", "a", created_at=now - timedelta(days=200))
    index_mentions(es, names, [old])
    about_old = alert("old", "cm@lumio.example", None, hours=24 * 198)
    spike = alert("spike", "cm@lumio.example", None, hours=24 * 300).model_copy(
        update={"kind": "spike", "mention_id": "", "mention_ids": ["long-gone"]}
    )
    create_alerts(es, names, [about_old, spike, alert("new", "cm@lumio.example", None)])
    months = {period_index(ALERTS, names, a.created_at) for a in (about_old, spike)}
    engine = Engine(settings, es, names)
    assert engine.gdpr().apply_retention(["test"]) == {"test": 1}
    assert not months & set(period_indices(es, names, ALERTS))  # both months went whole
    assert ids(es, ALERTS.alias(names)) == {document_id("alert", "new")}
    records = {r.scope: r.counts for r in audit_records(es, names, "retention")}
    assert records["source test, 30 days"]["alerts"] == 1
    assert records["alert indices"] == {"alerts": 1, "indices_dropped": 1}


def test_the_retention_job_is_scheduled_when_a_retention_is_set(tmp_path: Path, es_server, es, names):
    from apscheduler.schedulers.background import BackgroundScheduler

    from ecoute.scheduler import schedule_jobs

    settings = load_settings(
        posts_config(
            tmp_path,
            es_server.url,
            names.prefix,
            tmp_path / "p.jsonl",
            privacy={"default_retention_days": 90},
        )
    )
    jobs = {
        job.id: job for job in schedule_jobs(Engine(settings, es, names), BackgroundScheduler()).get_jobs()
    }
    assert jobs["gdpr:retention"].trigger.interval == timedelta(hours=24)


def test_unlinked_authors_are_stored_under_a_pseudonym_and_can_still_be_erased(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
):
    posts = sample_posts(20)
    path = write_posts(tmp_path / "p.jsonl", posts)
    config = posts_config(
        tmp_path, es_server.url, names.prefix, path, privacy={"pseudonymise_unlinked_authors": True}
    )
    monkeypatch.delenv("ECOUTE_PSEUDONYM_KEY", raising=False)
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    with pytest.raises(ConfigError, match="ECOUTE_PSEUDONYM_KEY"):
        engine.process(engine_posts(engine), _report())
    monkeypatch.setenv("ECOUTE_PSEUDONYM_KEY", KEY)
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    engine.import_customers()
    assert engine.collect("posts").indexed == 20
    es.indices.refresh(index=MENTIONS.alias(names))
    stored = [h["_source"] for h in es.search(index=MENTIONS.alias(names), size=100)["hits"]["hits"]]
    handles = {p["author"]["handle"] for p in posts}
    for mention in stored:
        author = mention["author"]
        if mention["customer_id"] or mention["link_proposal"]:
            assert author["handle"] in handles
        else:
            assert author["handle"].startswith("anon-") and author["display_name"] is None
            assert author["id"] is None and mention["raw"] == {}
    unlinked = next(m for m in stored if m["author"]["handle"].startswith("anon-"))
    original = next(
        p["author"]["handle"]
        for p in posts
        if pseudonym(p["author"]["handle"], KEY) == unlinked["author"]["handle"]
    )
    engine.gdpr().erase(Person(handles=[original]))
    assert unlinked["id"] not in ids(es, MENTIONS.alias(names))


def engine_posts(engine: Engine):
    from collectors.registry import build_collector

    config = engine.settings.source("posts")
    return (
        build_collector(config, engine.settings.base_dir, engine.settings.resolve(engine.settings.state_dir))
        .fetch({})
        .posts
    )


def _report():
    from ecoute.engine import RunReport

    return RunReport(source="posts")


def test_posts_the_platform_deleted_leave_the_index_with_their_alerts(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    engine = Engine(settings, es, names)
    mentions = [
        make_mention("a", source="posts", id=document_id("posts", "a")),
        make_mention("b", source="posts", id=document_id("posts", "b")),
    ]
    index_mentions(es, names, mentions)
    create_alerts(
        es, names, [alert("x", "cm@lumio.example", None).model_copy(update={"mention_id": mentions[0].id})]
    )
    assert engine.delete_native("posts", ["a", "never-seen"]) == 1
    assert ids(es, MENTIONS.alias(names)) == {mentions[1].id} and ids(es, ALERTS.alias(names)) == set()


def test_a_deletion_while_the_index_refuses_writes_waits_in_the_spool(
    es_server, es: Elasticsearch, names: IndexNames, settings: Settings
):
    from elasticsearch import Elasticsearch as Client

    from core.config import ElasticsearchConfig
    from index.client import connect
    from tests.reliability.proxy import FaultProxy

    proxy = FaultProxy(es_server.url)
    try:
        engine = Engine(settings, connect(proxy.url, ElasticsearchConfig()), names)
        mention = make_mention("a", source="posts", id=document_id("posts", "a"))
        index_mentions(es, names, [mention])
        proxy.faults.bulk_status = 503
        assert engine.delete_native("posts", ["a"]) == 0
        assert ids(es, MENTIONS.alias(names)) == {mention.id} and engine.spool.pending() == 1
        proxy.heal()
        assert engine.replay_spool() == 1
        assert ids(es, MENTIONS.alias(names)) == set()
        assert isinstance(engine.es, Client)
    finally:
        proxy.close()
