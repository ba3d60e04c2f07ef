"""How long each dashboard page takes to answer on N mentions (server side, as Streamlit runs it).

    .venv/bin/python benchmarks/dashboard_pages.py [--mentions 100000] [--repeat 3]

Starts its own embedded Elasticsearch stand-in on a free port, fills it with synthetic enriched
mentions, the sample CRM and alerts, signs in with AppTest and times every page: the first run
(cold caches), the median of the next ones (warm caches, as a person clicking around sees it), and
the median of runs that each follow a triage saved elsewhere (a new mentions generation, so the lists
are searched again while the aggregations stay cached), and of runs past the aggregations' TTL (the
entries of `dashboard/freshness.py` aged by the TTL: the stale figures are shown and refreshed in the
background).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from scratch import scratch_settings
from streamlit.testing.v1 import AppTest
from synthetic import ROOT, synthetic_mentions

from core.documents import Alert, document_id
from crm.files import read_contacts_csv
from dashboard import freshness
from index.alerts import create_alerts
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.customers import upsert_customers
from index.mentions import get_mentions_versioned
from index.periods import MENTIONS
from index.schema import ensure_indices
from index.triage import update_triage

APP = ROOT / "dashboard" / "app.py"


def timed(at: AppTest) -> float:
    started = time.perf_counter()
    at.run(timeout=120)
    elapsed = time.perf_counter() - started
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def profile(at: AppTest) -> None:
    """The project's own functions that took longest in one more warm run (cumulative seconds)."""
    profiler = cProfile.Profile()

    def in_script_thread(*_: object) -> None:  # AppTest runs the page in a thread of its own
        sys.setprofile(None)
        profiler.enable()

    threading.setprofile(in_script_thread)
    try:
        at.run(timeout=120)
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    profiler.create_stats()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    ours = [(v[3], k) for k, v in stats.items() if str(ROOT) in k[0] and ".venv" not in k[0]]
    for seconds, (path, line, name) in sorted(ours, reverse=True)[:10]:
        print(f"    {seconds * 1000:8.0f}ms  {Path(path).relative_to(ROOT)}:{line} {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="also print where each warm run spends its time"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ecoute-bench-"))
    scratch = scratch_settings(work / "es")
    server = embedded_server(scratch)
    try:
        es = open_index(scratch)
        names = IndexNames("bench")
        ensure_indices(es, names)
        customers = read_contacts_csv(ROOT / "samples" / "crm_customers.csv").customers
        upsert_customers(es, names, customers)
        now = datetime.now(UTC)
        started = time.perf_counter()
        mentions = synthetic_mentions(args.mentions, [c.customer_id for c in customers], now)
        report = create_documents(es, MENTIONS.alias(names), ((m.id, m) for m in mentions))
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
        create_alerts(es, names, alerts)

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
        statuses = iter(["in_progress", "answered"] * 100)

        def triage_elsewhere() -> None:
            """Someone else saves a triage: the mentions generation changes."""
            target = mentions[-1].id
            current = get_mentions_versioned(es, names, [target])[target]
            changes = {"status": next(statuses)}
            by = "bench@lumio.example"
            update_triage(es, names, target, changes, by, current.seq_no, current.primary_term)

        def after_change() -> float:
            triage_elsewhere()
            return timed(at)

        def past_ttl() -> float:
            """A run once the aggregations are past their TTL; their background refresh is not timed."""
            freshness.age(freshness.TTL_SECONDS + 1)
            elapsed = timed(at)
            freshness.wait_for_refreshes(timeout=300)
            return elapsed

        print(f"{'page':<34} {'first run':>10} {'warm median':>12} {'after a triage':>15} {'past TTL':>9}")
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
            changed = statistics.median(after_change() for _ in range(args.repeat))
            stale = statistics.median(past_ttl() for _ in range(args.repeat))
            label = page + (f"?customer={params['customer']}" if params else "")
            print(
                f"{label:<34} {first * 1000:>8.0f}ms {warm * 1000:>10.0f}ms {changed * 1000:>13.0f}ms"
                f" {stale * 1000:>7.0f}ms"
            )
            if args.profile:
                print("  warm:")
                profile(at)
                print("  after a triage:")
                triage_elsewhere()
                profile(at)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
