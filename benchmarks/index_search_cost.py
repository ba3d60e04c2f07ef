"""What one search request costs as the mention index grows, on the embedded stand-in or a real cluster.

    .venv/bin/python benchmarks/index_search_cost.py [--sizes 10000 30000 100000] [--url URL]

Without --url it starts its own embedded stand-in on a free port. For each size it times (best of 3)
a count, the inbox query (newest 50), one customer's mentions with a terms aggregation, and a get by id.
The stand-in passes over every stored mention on each search, whatever the query, so the number of
search requests a page makes decides its time there; on Elasticsearch these stay in milliseconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from synthetic import synthetic_mentions

from ecoute.config import ElasticsearchConfig
from index.aggregations import counts_by
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.queries import MentionFilter, count_mentions, get_mention, search_mentions
from index.writes import create_documents, drop_indices, ensure_indices


def best_ms(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--url", help="an Elasticsearch URL instead of the embedded stand-in")
    args = parser.parse_args()
    server = None if args.url else EmbeddedServer(Path(tempfile.mkdtemp(prefix="ecoute-bench-")), free_port())
    if server:
        server.start()
    es = connect(args.url or server.url, ElasticsearchConfig())  # type: ignore[union-attr]
    names = IndexNames("bench-search")
    ensure_indices(es, names)
    try:
        customers = [f"C-{1001 + i}" for i in range(60)]
        mentions = synthetic_mentions(max(args.sizes), customers, datetime.now(UTC))
        stored, one = 0, MentionFilter(customer_id=customers[0])
        print(f"{'mentions':>9} {'count':>9} {'inbox 50':>9} {'customer':>9} {'get':>7}   (ms, best of 3)")
        for size in sorted(args.sizes):
            create_documents(es, names.mentions, ((m.id, m) for m in mentions[stored:size]))
            es.indices.refresh(index=names.mentions)
            stored = size
            row = [
                best_ms(lambda: count_mentions(es, names)),
                best_ms(lambda: search_mentions(es, names, MentionFilter(), size=50)),
                best_ms(lambda: counts_by(es, names, "sentiment.label", one)),
                best_ms(lambda: get_mention(es, names, mentions[0].id)),
            ]
            print(f"{size:>9,} " + " ".join(f"{v:>9.0f}" for v in row[:3]) + f" {row[3]:>7.1f}")
    finally:
        drop_indices(es, names)
        if server:
            server.stop()


if __name__ == "__main__":
    main()
