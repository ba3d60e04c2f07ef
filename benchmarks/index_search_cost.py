"""Query latency of the dashboard's requests as the mention index grows, p50 and p95, on the embedded
stand-in or a real cluster.

    .venv/bin/python benchmarks/index_search_cost.py [--sizes 10000 30000 100000] [--repeat 20] [--url URL]

Without --url it starts its own embedded stand-in on a free port. For each size it sends each request
`--repeat` times, cycling through a few filter values so no answer can be a repeat of the last one:
- inbox: the attention-ordered newest 50 (the Inbox's list);
- inbox text: a full-text search with highlights;
- insights: the 30-day overview (7 terms aggregations, distinct customers, sentiment per day);
- top authors: the Insights authors-by-reach aggregation;
- customer: one customer's overview and mention list (the customer view's two uncached requests);
- count, and a get by id (what the dashboard's cache checks cost).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scratch import scratch_settings
from synthetic import WORDS, synthetic_mentions

from index.aggregations import INSIGHT_FIELDS, SENTIMENTS, overview, top_authors
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.mention_search import MentionFilter, search_mentions
from index.mentions import count_mentions, get_mention
from index.periods import MENTIONS
from index.schema import drop_indices, ensure_indices

LOAD_BATCH = 2000


def percentiles(work: Callable[[int], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 of `work(i)` in ms over `repeat` calls (after one untimed warm-up)."""
    work(repeat)
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        work(i)
        times.append(1000 * (time.perf_counter() - started))
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--url", help="an Elasticsearch URL instead of the embedded stand-in")
    args = parser.parse_args()
    scratch = scratch_settings(Path(tempfile.mkdtemp(prefix="ecoute-bench-")), args.url)
    server = None if args.url else embedded_server(scratch)
    es = open_index(scratch)
    names = IndexNames("bench-search")
    ensure_indices(es, names)
    try:
        now = datetime.now(UTC)
        customers = [f"C-{1001 + i}" for i in range(60)]
        mentions = synthetic_mentions(max(args.sizes), customers, now)
        month = MentionFilter(since=now - timedelta(days=30), until=now)

        def customer_view(i: int) -> None:
            flt = MentionFilter(customer_id=customers[i % len(customers)])
            overview(es, names, flt, fields=("sentiment.label", "intent.label"), interval="week")
            search_mentions(es, names, flt, size=20)

        requests: dict[str, Callable[[int], object]] = {
            "inbox": lambda i: search_mentions(
                es, names, MentionFilter(sentiments=[SENTIMENTS[i % 3]]), order="attention"
            ),
            "inbox text": lambda i: search_mentions(es, names, MentionFilter(query=WORDS[i % len(WORDS)])),
            "insights": lambda i: overview(es, names, month, fields=INSIGHT_FIELDS, interval="day"),
            "top authors": lambda i: top_authors(es, names, month),
            "customer": customer_view,
            "count": lambda i: count_mentions(es, names),
            "get by id": lambda i: get_mention(es, names, mentions[i].id),
        }
        print(f"{'mentions':>9} " + " ".join(f"{name:>17}" for name in requests))
        print(f"{'':>9} " + " ".join(f"{'p50 / p95 ms':>17}" for _ in requests))
        stored = 0
        for size in sorted(args.sizes):
            for start in range(stored, size, LOAD_BATCH):
                chunk = mentions[start : min(start + LOAD_BATCH, size)]
                create_documents(es, MENTIONS.alias(names), ((m.id, m) for m in chunk), refresh=False)
            es.indices.refresh(index=MENTIONS.alias(names))
            stored = size
            cells = []
            for work in requests.values():
                p50, p95 = percentiles(work, args.repeat)
                cells.append(f"{p50:>8.1f} / {p95:>6.1f}")
            print(f"{size:>9,} " + " ".join(cells), flush=True)
    finally:
        drop_indices(es, names)
        if server:
            server.stop()


if __name__ == "__main__":
    main()
