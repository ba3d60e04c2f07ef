"""Dashboard reads with mentions spread over 12 months: one index (before) vs one per month (after).

    PYTHONPATH=. .venv/bin/python benchmarks/time_indices.py [--sizes 10000 30000] [--repeat 10]

Starts its own embedded stand-in per layout. Prints, per total, p50/p95 in ms of the Inbox (7 days,
attention order), Insights (30-day overview), a customer's 90 days (overview + list), a full-text search
over 30 days, the bulk write rate of the last load step, and the stand-in's resident memory.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from index_search_cost import percentiles
from scratch import scratch_settings
from synthetic import synthetic_mentions

from core.documents import Mention
from index.aggregations import INSIGHT_FIELDS, overview
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.mappings import mapping_for
from index.mention_search import MentionFilter, search_mentions
from index.mentions import index_mentions
from index.periods import MENTIONS, SCHEMA_VERSION, mention_indices
from index.schema import ensure_indices

BATCH = 2000


def rss_mib(pid: int | None) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(layout: str, sizes: list[int], repeat: int) -> None:
    scratch = scratch_settings(Path(tempfile.mkdtemp(prefix="ecoute-bench-")), request_timeout=120)
    server = embedded_server(scratch)
    try:
        es = open_index(scratch)
        names = IndexNames("bench-time")
        ensure_indices(es, names)
        old = f"{MENTIONS.alias(names)}-v{SCHEMA_VERSION}"
        if layout == "single":  # as before: one index behind the alias
            es.indices.delete(index=",".join(mention_indices(es, names)))
            es.indices.create(
                index=old,
                aliases={MENTIONS.alias(names): {"is_write_index": True}},
                mappings=mapping_for(Mention),
            )
        now = datetime.now(UTC)
        rng = random.Random(11)
        customers = [f"C-{1001 + i}" for i in range(60)]
        everything = synthetic_mentions(max(sizes), customers, now)
        everything = [
            m.model_copy(update={"created_at": now - timedelta(minutes=rng.randrange(365 * 24 * 60))})
            for m in everything
        ]
        loaded = 0
        print(f"\n{layout}: p50/p95 ms")
        print("total   | inbox 7d  | insights 30d | customer 90d | text 30d  | bulk/s | RSS MiB | indices")
        for size in sizes:
            rate = 0.0
            while loaded < size:
                chunk = everything[loaded : min(size, loaded + BATCH)]
                started = time.perf_counter()
                if layout == "single":
                    create_documents(es, old, ((m.id, m) for m in chunk), refresh=False)
                else:
                    index_mentions(es, names, chunk, refresh=False)
                rate = len(chunk) / (time.perf_counter() - started)
                loaded += len(chunk)
            es.indices.refresh(index=MENTIONS.alias(names))
            cells = measure(es, names, now, customers, repeat)
            shown = " | ".join(f"{a:4.0f}/{b:4.0f}".ljust(9) for a, b in cells)
            count = len(mention_indices(es, names))
            print(f"{size:7,} | {shown} | {rate:6.0f} | {rss_mib(server.pid()):7.0f} | {count}", flush=True)
    finally:
        server.stop()


def measure(
    es, names: IndexNames, now: datetime, customers: list[str], repeat: int
) -> list[tuple[float, float]]:
    """p50/p95 of the four default views."""
    week, month, quarter = (now - timedelta(days=d) for d in (7, 30, 90))
    words = ["lumio", "panne", "box", "facture", "fibre"]
    return [
        percentiles(
            lambda i: search_mentions(es, names, MentionFilter(since=week), order="attention"), repeat
        ),
        percentiles(
            lambda i: overview(es, names, MentionFilter(since=month), INSIGHT_FIELDS, interval="day"),
            repeat,
        ),
        percentiles(
            lambda i: (
                overview(
                    es,
                    names,
                    MentionFilter(customer_id=customers[i % 60], since=quarter),
                    interval="week",
                ),
                search_mentions(es, names, MentionFilter(customer_id=customers[i % 60], since=quarter)),
            ),
            repeat,
        ),
        percentiles(
            lambda i: search_mentions(es, names, MentionFilter(query=words[i % 5], since=month)),
            repeat,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--layouts", nargs="+", default=["single", "periods"])
    args = parser.parse_args()
    for layout in args.layouts:
        run(layout, args.sizes, args.repeat)


if __name__ == "__main__":
    main()
