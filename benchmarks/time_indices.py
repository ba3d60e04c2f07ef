"""Dashboard reads with mentions spread over 12 months: one index (before) vs one per month (after).

    cd benchmarks && PYTHONPATH=.. ../.venv/bin/python time_indices.py [--sizes 10000 30000] [--repeat 10]
        [--layouts single periods] [--granularity month|week] [--min-free-gib 4]

Starts its own embedded stand-in per layout. Prints, per total, p50/p95 in ms of the Inbox (7 days,
attention order), Insights (30-day overview), a customer's 90 days (overview + list), a full-text search
over 30 days, the bulk write rate of the first and last load steps of that size, the stand-in's resident
memory and the load average; at the end, the stand-in's data folder once stopped, per million mentions.
`--layouts periods` alone skips the single index (minutes per search at 100k and more). It stops loading
when the machine's available memory falls under `--min-free-gib`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from index_footprint import folder_bytes
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
from index.periods import SCHEMA_VERSION, mention_indices
from index.schema import ensure_indices

BATCH = 2000


def rss_mib(pid: int | None) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def available_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(layout: str, sizes: list[int], repeat: int, granularity: str, min_free_gib: float) -> None:
    state = Path(tempfile.mkdtemp(prefix="ecoute-bench-"))
    scratch = scratch_settings(state, request_timeout=600)
    server = embedded_server(scratch)
    loaded = 0
    try:
        es = open_index(scratch)
        names = IndexNames("bench-time", granularity)
        ensure_indices(es, names)
        old = f"{names.mentions}-v{SCHEMA_VERSION}"
        if layout == "single":  # as before: one index behind the alias
            es.indices.delete(index=",".join(mention_indices(es, names)))
            es.indices.create(
                index=old, aliases={names.mentions: {"is_write_index": True}}, mappings=mapping_for(Mention)
            )
        now = datetime.now(UTC)
        rng = random.Random(11)
        customers = [f"C-{1001 + i}" for i in range(60)]
        everything = synthetic_mentions(max(sizes), customers, now)
        everything = [
            m.model_copy(update={"created_at": now - timedelta(minutes=rng.randrange(365 * 24 * 60))})
            for m in everything
        ]
        print(f"\n{layout} ({granularity if layout == 'periods' else 'one index'}): p50/p95 ms")
        print(
            "total   | inbox 7d  | insights 30d | customer 90d | text 30d  | bulk/s first-last"
            " | RSS MiB | indices | load"
        )
        for size in sizes:
            rate, first = 0.0, None
            while loaded < size:
                if available_gib() < min_free_gib:
                    print(f"stopped at {loaded:,}: {available_gib():.1f} GiB available, under {min_free_gib}")
                    return
                chunk = everything[loaded : min(size, loaded + BATCH)]
                started = time.perf_counter()
                if layout == "single":
                    create_documents(es, old, ((m.id, m) for m in chunk), refresh=False)
                else:
                    index_mentions(es, names, chunk, refresh=False)
                rate = len(chunk) / (time.perf_counter() - started)
                first = rate if first is None else first
                loaded += len(chunk)
            es.indices.refresh(index=names.mentions)
            cells = measure(es, names, now, customers, repeat)
            shown = " | ".join(f"{a:4.0f}/{b:4.0f}".ljust(9) for a, b in cells)
            count = len(mention_indices(es, names))
            rates = f"{first or 0:5.0f}-{rate:5.0f}"
            rss = rss_mib(server.pid())
            print(
                f"{size:7,} | {shown} | {rates:>17} | {rss:7.0f} | {count:7} | {load_average()}", flush=True
            )
    finally:
        server.stop()
        if loaded:
            disk = folder_bytes(state) / 1024 / 1024
            print(
                f"data folder once stopped: {disk:,.0f} MiB for {loaded:,} mentions,"
                f" {disk * 1e6 / loaded:,.0f} MiB per million"
            )
        shutil.rmtree(state, ignore_errors=True)


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
    parser.add_argument("--layouts", nargs="+", choices=["single", "periods"], default=["single", "periods"])
    parser.add_argument("--granularity", choices=["month", "week"], default="month")
    parser.add_argument("--min-free-gib", type=float, default=4.0)
    args = parser.parse_args()
    for layout in args.layouts:
        run(layout, args.sizes, args.repeat, args.granularity, args.min_free_gib)


if __name__ == "__main__":
    main()
