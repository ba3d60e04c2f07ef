"""Dashboard reads with mentions spread over 12 months: one index (before) vs one per month (after).

    cd benchmarks && PYTHONPATH=.. ../.venv/bin/python time_indices.py [--sizes 10000 30000] [--repeat 10]
        [--layouts single periods] [--granularity month|week] [--min-free-gib 4] [--profile]

Starts its own embedded stand-in per layout. Prints, per total, p50/p95 in ms of the Inbox (7 days,
attention order, with its sidebar's counts), Insights (30 days: figures, share of voice, authors), a
customer's 90 days (figures + list), a full-text search
over 30 days, the bulk write rate of the load step up to that size and of its slowest bulk (mentions of
any day of the year: every period's index grows), the rate of one bulk of new mentions (the current
period's index only, as a live stream writes; deleted after), the stand-in's resident memory and the load
average; at the end, the stand-in's data folder once stopped, per million mentions. `--profile` then
times each default page's requests alone, as the page asked them before feat/lean-pages and as it asks
them now, with the stand-in's CPU time per mention held by the indices each names, and each page's sum.
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
from index.aggregations import (
    INSIGHT_FIELDS,
    overview,
    overview_and_mentions,
    period_insights,
    share_of_voice,
    top_authors,
)
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.mappings import mapping_for
from index.mention_search import FACET_CHOICES, MentionFilter, search_mentions
from index.mentions import delete_mentions, index_mentions
from index.periods import MENTIONS, SCHEMA_VERSION, mention_indices
from index.schema import ensure_indices

BATCH = 2000
FACETS = ("source", "platform", "language", "intent.label", "topics")
"""What the Inbox's sidebar counted over every mention before feat/lean-pages."""


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


PROFILE_RUNS = 5
BRANDS = ["Lumio", "Zéphyr Télécom", "Arcadia Mobile"]
NEW_FACETS = tuple(FACET_CHOICES)
"""What the Inbox's sidebar counts now, with its list, over the list's period (dashboard/pages/inbox.py)."""


def page_requests(es, names: IndexNames, now: datetime, customer_id: str) -> dict[str, dict[str, list]]:
    """Per default page, before (main before feat/lean-pages) and after: its requests to the mention
    indices on a first uncached load, each as (name, the index expression of each request it makes, call).
    The small indices (customers, state, replies, alerts) and the live count's later refreshes are left
    out; the live count's refresh is listed as its own page."""
    week, month, quarter = (now - timedelta(days=d) for d in (7, 30, 90))
    inbox, period = MentionFilter(since=week), MentionFilter(since=month)
    before = MentionFilter(since=now - timedelta(days=60), until=month)
    customer = MentionFilter(customer_id=customer_id, since=quarter)
    alias = MENTIONS.alias(names)

    def on(flt: MentionFilter | None, times: int = 1) -> list[str]:
        return [flt.indices(es, names) if flt else alias] * times

    def live_count(index: str) -> int:  # count_collected_since of the Inbox's 7 days, on `index`
        since = now - timedelta(seconds=5)
        query = {
            "bool": {"filter": [inbox.to_query(), {"range": {"collected_at": {"gt": since.isoformat()}}}]}
        }
        return es.count(index=index, query=query)["count"]

    def insights_after() -> object:
        return period_insights(es, names, period, BRANDS)

    insights_before = [
        ("overview, 30 d", on(period), lambda: overview(es, names, period, INSIGHT_FIELDS, interval="day")),
        ("share of voice, 30 d", on(period), lambda: share_of_voice(es, names, BRANDS, period)),
        ("top authors, 30 d (2 requests)", on(period, 2), lambda: top_authors(es, names, period)),
    ]
    compared_before = (
        "overview, 30 d before",
        on(before),
        lambda: overview(es, names, before, INSIGHT_FIELDS),
    )
    return {
        "Inbox, 7 d": {
            "before": [
                ("list", on(inbox), lambda: search_mentions(es, names, inbox, order="attention")),
                ("sidebar counts, all time", on(None), lambda: overview(es, names, None, FACETS)),
                ("new mentions count, all time", on(None), lambda: live_count(alias)),
            ],
            "after": [
                (
                    "list and sidebar counts",
                    on(inbox),
                    lambda: search_mentions(es, names, inbox, order="attention", facets=NEW_FACETS),
                ),
            ],
        },
        "Inbox's new mentions count, every 5 s": {
            "before": [("count, all time", on(None), lambda: live_count(alias))],
            "after": [("count, 7 d", on(inbox), lambda: live_count(inbox.indices(es, names)))],
        },
        "Insights, 30 d": {
            "before": insights_before,
            "after": [
                ("figures and widest reach + authors' counts", on(period, 2), insights_after),
            ],
        },
        "Insights compared with the 30 d before": {
            "before": [*insights_before, compared_before],
            "after": [
                ("figures and widest reach + authors' counts", on(period, 2), insights_after),
                compared_before,
            ],
        },
        "customer, 90 d": {
            "before": [
                ("overview", on(customer), lambda: overview(es, names, customer, interval="week")),
                ("list", on(customer), lambda: search_mentions(es, names, customer)),
            ],
            "after": [
                (
                    "overview and list",
                    on(customer),
                    lambda: overview_and_mentions(es, names, customer, interval="week"),
                ),
            ],
        },
        'full text "panne", 30 d': {
            "before": [
                (
                    "list",
                    on(period),
                    lambda: search_mentions(es, names, MentionFilter(query="panne", since=month)),
                )
            ],
        },
    }


def profile(es, names: IndexNames, now: datetime, customers: list[str], pid: int | None) -> None:
    """Each default page's requests, before and after, alone: how many requests, the mentions held by
    the indices each names (summed over its requests), and the median of PROFILE_RUNS runs of its wall
    time and of the stand-in's CPU time (per mention read); then each page's sum."""
    held_by: dict[str, int] = {}
    timed: dict[int, tuple[float, float]] = {}

    def held(expression: str) -> int:
        if expression not in held_by:
            held_by[expression] = es.count(index=expression)["count"]
        return held_by[expression]

    print("page | set | request | requests | mentions read | wall ms | stand-in CPU ms | CPU µs/mention read")
    totals = []
    for page, sets in page_requests(es, names, now, customers[0]).items():
        for which, requests in sets.items():
            wall_sum = cpu_sum = 0.0
            read_sum = 0
            for name, expressions, call in requests:
                read = sum(held(e) for e in expressions)
                if id(call) not in timed:  # a request two pages make is timed once
                    walls, cpus = [], []
                    for _ in range(PROFILE_RUNS):
                        cpu, started = stand_in_cpu_ms(pid), time.perf_counter()
                        call()
                        walls.append((time.perf_counter() - started) * 1000)
                        cpus.append(stand_in_cpu_ms(pid) - cpu)
                    timed[id(call)] = statistics.median(walls), statistics.median(cpus)
                wall, cpu = timed[id(call)]
                wall_sum, cpu_sum, read_sum = wall_sum + wall, cpu_sum + cpu, read_sum + read
                print(
                    f"{page} | {which} | {name} | {len(expressions)} | {read:,} | {wall:.0f} | {cpu:.0f}"
                    f" | {cpu * 1000 / max(read, 1):.1f}",
                    flush=True,
                )
            requests_made = sum(len(e) for _, e, _ in requests)
            totals.append((page, which, requests_made, read_sum, wall_sum, cpu_sum))
    print(f"\nper page (load {load_average()}): page | set | requests | mentions read | wall ms | CPU ms")
    for page, which, made, read, wall, cpu in totals:
        print(f"{page} | {which} | {made} | {read:,} | {wall:.0f} | {cpu:.0f}")


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
    """p50/p95 of the four default views, as each page now asks them: the Inbox's list with its sidebar
    counts, Insights' figures (two requests), a customer's figures and list, a full-text search."""
    week, month, quarter = (now - timedelta(days=d) for d in (7, 30, 90))
    words = ["lumio", "panne", "box", "facture", "fibre"]
    return [
        percentiles(
            lambda i: search_mentions(
                es, names, MentionFilter(since=week), order="attention", facets=NEW_FACETS
            ),
            repeat,
        ),
        percentiles(lambda i: period_insights(es, names, MentionFilter(since=month), BRANDS), repeat),
        percentiles(
            lambda i: overview_and_mentions(
                es, names, MentionFilter(customer_id=customers[i % 60], since=quarter), interval="week"
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
