"""How long each dashboard page takes to answer on N mentions (server side, as Streamlit runs it).

    .venv/bin/python benchmarks/dashboard_pages.py [--mentions 100000] [--repeat 3]

Starts its own embedded Elasticsearch stand-in on a free port, fills it with synthetic enriched
mentions, the sample CRM and alerts, signs in with AppTest and times every page: the first run
(cold caches) and the median of the next ones (warm caches, as a person clicking around sees it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from streamlit.testing.v1 import AppTest

from crm.files import read_contacts_csv
from ecoute.config import ElasticsearchConfig
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.documents import Alert, CustomerLink, Label, Mention, document_id
from index.writes import create_documents, ensure_indices, upsert_customers, write_alerts

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
WORDS = [
    "box",
    "fibre",
    "panne",
    "réseau",
    "forfait",
    "facture",
    "support",
    "merci",
    "lent",
    "coupure",
    "mobile",
    "router",
    "outage",
    "bill",
]


def synthetic_mentions(count: int, customer_ids: list[str], now: datetime) -> list[Mention]:
    rng = random.Random(7)
    mentions = []
    for i in range(count):
        customer = rng.choice(customer_ids) if rng.random() < 0.1 else None
        created = now - timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        mentions.append(
            Mention(
                id=document_id("bench", str(i)),
                source=rng.choice(["sample", "reddit", "mastodon-fr", "bluesky", "reviews"]),
                platform=rng.choice(["reddit", "mastodon", "bluesky", "trustpilot"]),
                native_id=str(i),
                url=f"https://example.org/post/{i}",
                author={
                    "handle": f"user{i % 5000}",
                    "display_name": f"User {i % 5000}",
                    "followers": i % 9000,
                },
                text=f"Lumio {' '.join(rng.sample(WORDS, 6))} #{i}",
                language=rng.choice(["fr", "en"]),
                created_at=created,
                collected_at=created,
                enriched_at=created,
                thread={},
                engagement={},
                topics=rng.sample(["Lumio", "Zéphyr Télécom", "Arcadia Mobile"], rng.randint(1, 2)),
                sentiment=Label(label=rng.choice(["positive", "neutral", "negative"]), confidence=0.8),
                intent=Label(label=rng.choice(["complaint", "praise", "question", "other"]), confidence=0.7),
                customer_id=customer,
                link=CustomerLink(customer_id=customer, method="handle", confidence=1.0, reason="bench")
                if customer
                else None,
            )
        )
    return mentions


def timed(at: AppTest) -> float:
    started = time.perf_counter()
    at.run(timeout=120)
    elapsed = time.perf_counter() - started
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ecoute-bench-"))
    server = EmbeddedServer(work / "es", free_port())
    server.start()
    try:
        es = connect(server.url, ElasticsearchConfig())
        names = IndexNames("bench")
        ensure_indices(es, names)
        customers = read_contacts_csv(ROOT / "samples" / "crm_customers.csv").customers
        upsert_customers(es, names, customers)
        now = datetime.now(UTC)
        started = time.perf_counter()
        mentions = synthetic_mentions(args.mentions, [c.customer_id for c in customers], now)
        report = create_documents(es, names.mentions, ((m.id, m) for m in mentions))
        print(f"indexed {report.created:,} mentions in {time.perf_counter() - started:.1f}s")
        alerts = [
            Alert(
                id=document_id("alert", m.id),
                rule="negative-by-customer",
                mention_id=m.id,
                customer_id=m.customer_id,
                recipients=["admin@lumio.example"],
                created_at=m.created_at,
                summary=m.text,
                sentiment=m.sentiment.label,
                intent=m.intent.label,
            )
            for m in mentions[:500]
            if m.customer_id
        ]
        write_alerts(es, names, alerts)

        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        data["elasticsearch"] = {"url": server.url, "index_prefix": names.prefix}
        data["state_dir"] = str(work / "state")
        config = work / "config.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        os.environ["ECOUTE_CONFIG"] = str(config)

        at = AppTest.from_file(str(APP), default_timeout=120).run(timeout=120)
        at.text_input(key="sign_in_email").input("admin@lumio.example")
        at.text_input(key="sign_in_password").input("lumio-demo")
        [b for b in at.button if b.proto.form_id == "sign_in"][0].click().run(timeout=120)
        print(f"{'page':<34} {'first run':>10} {'warm median':>12}")
        for page, params in (
            ("pages/inbox.py", {}),
            ("pages/insights.py", {}),
            ("pages/customers.py", {"customer": customers[0].customer_id}),
            ("pages/alerts.py", {}),
            ("pages/admin.py", {}),
        ):
            at.query_params.clear()
            at.query_params.update(params)
            at.switch_page(page)
            first = timed(at)
            warm = statistics.median(timed(at) for _ in range(args.repeat))
            label = page + (f"?customer={params['customer']}" if params else "")
            print(f"{label:<34} {first * 1000:>8.0f}ms {warm * 1000:>10.0f}ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
