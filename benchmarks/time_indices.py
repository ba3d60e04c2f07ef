"""Dashboard reads with mentions spread over 12 months: one index (before) vs one per month (after).

    cd benchmarks && PYTHONPATH=.. ../.venv/bin/python time_indices.py [--sizes 10000 30000] [--repeat 10]
        [--layouts single periods] [--granularity month|week] [--min-free-gib 4] [--profile]

Starts its own embedded stand-in per layout. Prints, per total, p50/p95 in ms of the Inbox (7 days,
attention order), Insights (30-day overview), a customer's 90 days (overview + list), a full-text search
over 30 days, the bulk write rate of the load step up to that size and of its slowest bulk (mentions of
any day of the year: every period's index grows), the rate of one bulk of new mentions (the current
period's index only, as a live stream writes; deleted after), the stand-in's resident memory and the load
average; at the end, the stand-in's data folder once stopped, per million mentions. `--profile` then
times each request of the default pages alone, with the stand-in's CPU time per mention of the indices
it names.
`--layouts periods` alone skips the single index (minutes per search at 100k and more). It stops loading
when the machine's available memory falls under `--min-free-gib`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from index_footprint import folder_bytes
from index_search_cost import percentiles
from scratch import scratch_settings
from synthetic import synthetic_mentions

from core.documents import Mention, document_id
from index.aggregations import INSIGHT_FIELDS, overview, share_of_voice
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.mappings import mapping_for
from index.mention_search import MentionFilter, search_mentions
from index.mentions import delete_mentions, index_mentions
from index.periods import MENTIONS, SCHEMA_VERSION, mention_indices
from index.schema import ensure_indices

BATCH = 2000
FACETS = ("source", "platform", "language", "intent.label", "topics")
"""What the Inbox's sidebar counts over every mention (dashboard/pages/inbox.py)."""


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


def stand_in_cpu_ms(pid: int | None) -> float:
    """CPU time (user + system, all threads) the stand-in has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def live_rate(es, names: IndexNames, sample: list[Mention], now: datetime, step: int) -> float:
    """Mentions/s of one bulk of new mentions from the last hour, as a live stream writes them (all to
    the current period's index); deleted afterwards, so the views keep their totals."""
    fresh = [
        m.model_copy(
            update={
                "id": document_id("live", str(step), str(i)),
                "native_id": f"live-{step}-{i}",
                "created_at": now - timedelta(seconds=i),
            }
        )
        for i, m in enumerate(sample[:BATCH])
    ]
    started = time.perf_counter()
    index_mentions(es, names, fresh, refresh=False)
    rate = len(fresh) / (time.perf_counter() - started)
    delete_mentions(es, names, [m.id for m in fresh])
    return rate


def profile(es, names: IndexNames, now: datetime, customers: list[str], pid: int | None) -> None:
    """Each request the default pages make, alone: the indices it names, the mentions in them, and the
    median of 3 runs of its wall time and of the stand-in's CPU time (per mention held by those indices)."""
    week, month, quarter = (now - timedelta(days=d) for d in (7, 30, 90))
    customer = MentionFilter(customer_id=customers[0], since=quarter)
    requests = {
        "Inbox list, 7 d": (
            MentionFilter(since=week),
            lambda f: search_mentions(es, names, f, order="attention"),
        ),
        "Inbox facets, all time": (MentionFilter(), lambda f: overview(es, names, None, FACETS)),
        "Insights, 30 d": (
            MentionFilter(since=month),
            lambda f: overview(es, names, f, INSIGHT_FIELDS, interval="day"),
        ),
        "Insights, 30 d before": (
            MentionFilter(since=now - timedelta(days=60), until=month),
            lambda f: overview(es, names, f, INSIGHT_FIELDS),
        ),
        "Insights share of voice, 30 d": (
            MentionFilter(since=month),
            lambda f: share_of_voice(es, names, ["Lumio", "Zéphyr Télécom", "Arcadia Mobile"], f),
        ),
        "customer overview, 90 d": (customer, lambda f: overview(es, names, f, interval="week")),
        "customer list, 90 d": (customer, lambda f: search_mentions(es, names, f)),
        "full text, 30 d": (
            MentionFilter(query="panne", since=month),
            lambda f: search_mentions(es, names, f),
        ),
    }
    print(
        "request                        | indices | mentions in them | wall ms | stand-in CPU ms"
        " | CPU µs/mention"
    )
    for name, (flt, call) in requests.items():
        indices = flt.indices(es, names)
        held = es.count(index=indices)["count"]
        walls, cpus = [], []
        for _ in range(3):
            cpu, started = stand_in_cpu_ms(pid), time.perf_counter()
            call(flt)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append(stand_in_cpu_ms(pid) - cpu)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        named, per_mention = len(es.indices.get(index=indices)), cpu * 1000 / max(held, 1)
        print(f"{name:30} | {named:7} | {held:16,} | {wall:7.0f} | {cpu:15.0f} | {per_mention:14.1f}")


def run(
    layout: str, sizes: list[int], repeat: int, granularity: str, min_free_gib: float, profiled: bool = False
) -> None:
    state = Path(tempfile.mkdtemp(prefix="ecoute-bench-"))
    scratch = scratch_settings(state, request_timeout=600)
    server = embedded_server(scratch)
    loaded = 0
    try:
        es = open_index(scratch)
        names = IndexNames("bench-time", granularity)
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
        print(f"\n{layout} ({granularity if layout == 'periods' else 'one index'}): p50/p95 ms")
        print(
            "total   | inbox 7d  | insights 30d | customer 90d | text 30d  | bulk/s step/slowest | live/s"
            " | RSS MiB | indices | load"
        )
        for size in sizes:
            slowest, step_started, step_loaded = float("inf"), time.perf_counter(), loaded
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
                slowest = min(slowest, len(chunk) / (time.perf_counter() - started))
                loaded += len(chunk)
            rate = (loaded - step_loaded) / (time.perf_counter() - step_started)
            es.indices.refresh(index=MENTIONS.alias(names))
            live = live_rate(es, names, everything, now, size) if layout == "periods" else 0.0
            cells = measure(es, names, now, customers, repeat)
            shown = " | ".join(f"{a:4.0f}/{b:4.0f}".ljust(9) for a, b in cells)
            count = len(mention_indices(es, names))
            rates = f"{rate:5.0f} / {slowest:5.0f} | {live:6.0f}"
            rss = rss_mib(server.pid())
            print(
                f"{size:7,} | {shown} | {rates:>26} | {rss:7.0f} | {count:7} | {load_average()}", flush=True
            )
        if profiled:
            profile(es, names, now, customers, server.pid())
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
    parser.add_argument("--profile", action="store_true", help="after the last size, each request alone")
    args = parser.parse_args()
    for layout in args.layouts:
        run(layout, args.sizes, args.repeat, args.granularity, args.min_free_gib, args.profile)


if __name__ == "__main__":
    main()
