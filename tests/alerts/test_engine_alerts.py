"""End to end: raw posts through Engine.process to an alert delivered to a local webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from alerts.settings import WebhookChannel
from core.documents import RawPost
from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from index.alerts import alerts_for, deliveries_of
from index.client import IndexNames
from index.customers import upsert_customers
from tests.alerts.servers import SECRET, webhook_receiver
from tests.conftest import write_config
from tests.factories import make_customer

OWNER = "claire.dubois@lumio.example"


def post(native_id: str, text: str, handle: str) -> RawPost:
    return RawPost(
        source="stream",
        platform="mastodon",
        native_id=native_id,
        url=f"https://mastodon.example/@x/{native_id}",
        author={"handle": handle, "display_name": handle, "followers": 40},
        text=text,
        created_at=datetime.now(UTC),
    )


def test_a_customers_angry_post_reaches_the_account_owner_by_webhook(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_WEBHOOK_SECRET", SECRET)
    with webhook_receiver() as receiver:
        settings = load_settings(write_config(tmp_path, es_server.url, names.prefix))
        settings.alerts.channels.webhooks = [WebhookChannel(name="crm", url=receiver.url, local=True)]
        settings.alerts.default_channels = ["webhook:crm"]
        customer = make_customer("C1", handles=["julie@mastodon.example"], owner_email=OWNER)
        upsert_customers(es, names, [customer])
        engine = Engine(settings, es, names)
        engine.prepare()
        report = RunReport(source="stream")
        angry = "Lumio, votre service est nul, panne depuis trois jours, je suis furieuse !"
        calm = "Nouvelle box Lumio reçue, installation simple."
        engine.process([post("p1", angry, "julie@mastodon.example"), post("p2", calm, "someone")], report)
        received = receiver.wait_for(2)
    # Both shipped rules match the angry post ("panne" is in outage-talk's query); the calm one nothing.
    alerts = alerts_for(es, names)
    assert report.indexed == 2 and report.alerts == 2
    assert sorted((a.rule, a.customer_id, tuple(a.recipients)) for a in alerts) == [
        ("negative-by-customer", "C1", (OWNER,)),
        ("outage-talk", "C1", (OWNER,)),
    ]
    assert len(received) == 2 and all(r.signature_ok for r in received)
    payloads = sorted((r.json()["alert"] for r in received), key=lambda a: a["rule"])
    assert [p["rule"] for p in payloads] == ["negative-by-customer", "outage-talk"]
    assert all(p["customer_id"] == "C1" and p["recipients"] == [OWNER] for p in payloads)
    assert [d.status for d in deliveries_of(es, names, [a.id for a in alerts])] == ["sent", "sent"]
