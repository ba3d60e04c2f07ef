"""What the costliest searches the bounds accept cost, and what refusing a hostile one costs.

    .venv/bin/python benchmarks/search_bounds.py [--mentions 5000] [--customers 2000] [--repeat 3] [--url URL]

Without --url it starts its own embedded stand-in on a free port and loads `--mentions` synthetic
mentions. Each accepted search is sent `--repeat` times through `index.mention_search` (the Inbox's
`search_mentions`, newest 50 with highlights, and the attention order), after one untimed warm-up; it
prints the median and the slowest wall time, and the CPU time the stand-in spent (median), in ms. Then
the hostile searches of the attack, which are refused before any request, and whether the index still
answers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scratch import scratch_settings
from synthetic import WORDS, synthetic_mentions

from core.documents import Customer
from index.bulk import create_documents
from index.client import IndexNames, embedded_server, open_index
from index.customers import search_customers, upsert_customers
from index.mention_search import MentionFilter, search_mentions
from index.periods import MENTIONS
from index.schema import drop_indices, ensure_indices
from index.search_bounds import (
    CUSTOMER_SEARCH,
    INBOX_SEARCH,
    SearchTooComplexError,
    check_search,
    parse_search,
)

LOAD_BATCH = 2000


def worst_accepted() -> dict[str, str]:
    """The costliest searches within INBOX_SEARCH: as many words, wildcards and levels as allowed."""
    terms, wildcards, depth = INBOX_SEARCH.terms, INBOX_SEARCH.wildcards, INBOX_SEARCH.depth
    words = [WORDS[i % len(WORDS)] for i in range(terms)]
    stems = [f"{w[:2]}*" for w in words[:wildcards]]
    searches = {
        "1 word (for comparison)": words[0],
        f"{terms} words OR'ed": " OR ".join(words),
        f"{terms} words AND'ed": " ".join(words),
        f"a phrase of {terms} words": f'"{" ".join(words)}"',
        f"{wildcards} wildcards + {terms - wildcards} words OR'ed": " OR ".join([*stems, *words[wildcards:]]),
        f"{depth} levels of parentheses, {terms} words": "(" * depth
        + " OR ".join(words[:-1])
        + ")" * depth
        + f" OR {words[-1]}",
    }
    for search in searches.values():
        parse_search(search)  # each is accepted, or the benchmark is wrong
    return searches


FIRST = ["Julie", "Tom", "Amir", "Léa", "Hugo", "Nina", "Paul", "Sara"]
LAST = ["Martin", "Baker", "Dupont", "Leroy", "Moreau", "Faure"]


def synthetic_customers(count: int, now: datetime) -> list[Customer]:
    customers = []
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        customers.append(
            Customer(
                customer_id=f"C-{1001 + i}",
                first_name=first,
                last_name=last,
                full_name=f"{first} {last}",
                company=f"Société {LAST[(i // 6) % 6]} {i}",
                email=f"{first.lower()}.{last.lower()}{i}@client.example",
                handles=[f"{first.lower()}{i}@mastodon.example"],
                updated_at=now,
            )
        )
    return customers


def hostile() -> dict[str, str]:
    return {
        "10,800 characters": ("lumio panne " * 900)[:10_799] + "!",
        "900 characters of OR": " OR ".join(WORDS[i % len(WORDS)] for i in range(200))[:900],
        "500 nested parentheses": "(" * 500 + "box" + ")" * 500,
        "240 wildcards": " OR ".join(f"{w[:2]}*" for w in WORDS * 20),
    }


def cpu_ms(pid: int | None) -> float:
    """CPU time (user + system) the index process has used so far, in ms; 0 for a remote index."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return 1000 * (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(work: Callable[[], object], repeat: int, pid: int | None) -> tuple[float, float, float]:
    """Median and slowest wall time of `work()`, and the median CPU time the index spent on it, in ms,
    over `repeat` calls (after one untimed warm-up). On a shared machine the wall time grows with the
    load; the index's CPU time much less so."""
    work()
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_before = time.perf_counter(), cpu_ms(pid)
        work()
        times.append(1000 * (time.perf_counter() - started))
        cpu.append(cpu_ms(pid) - cpu_before)
    return statistics.median(times), max(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an Elasticsearch URL instead of the embedded stand-in")
    args = parser.parse_args()
    scratch = scratch_settings(Path(tempfile.mkdtemp(prefix="ecoute-bench-")), args.url, request_timeout=300)
    server = None if args.url else embedded_server(scratch)
    es = open_index(scratch)
    names = IndexNames("bench-bounds")
    ensure_indices(es, names)
    try:
        mentions = synthetic_mentions(args.mentions, [f"C-{1001 + i}" for i in range(60)], datetime.now(UTC))
        for start in range(0, len(mentions), LOAD_BATCH):
            chunk = mentions[start : start + LOAD_BATCH]
            create_documents(es, MENTIONS.alias(names), ((m.id, m) for m in chunk), refresh=False)
        es.indices.refresh(index=MENTIONS.alias(names))
        print(f"bounds: {INBOX_SEARCH}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{args.mentions:,} mentions; median / slowest of {args.repeat}, ms; load average {load}")
        pid = server.pid() if server else None
        print(
            f"{'accepted search':<42} {'newest 50: wall, slowest, index CPU':>38} {'attention 50: same':>30}"
        )
        for name, search in worst_accepted().items():
            flt = MentionFilter(query=search)
            cells = [
                timed(
                    lambda flt=flt, order=order: search_mentions(es, names, flt, order=order),
                    args.repeat,
                    pid,
                )
                for order in ("newest", "attention")
            ]
            row = " ".join(f"{p50:>10,.0f} {top:>10,.0f} {cpu:>10,.0f}" for p50, top, cpu in cells)
            print(f"{name:<42} {row}", flush=True)
        customers = synthetic_customers(args.customers, datetime.now(UTC))
        upsert_customers(es, names, customers)
        widest = " ".join(f"{c.first_name} {c.last_name}" for c in customers[: CUSTOMER_SEARCH.terms // 2])
        p50, top, cpu = timed(
            lambda: search_customers(es, names, check_search(widest, CUSTOMER_SEARCH)), args.repeat, pid
        )
        label = f"customer search, {CUSTOMER_SEARCH.terms} words ({args.customers:,} customers)"
        print(f"{label:<42} {p50:>10,.0f} {top:>10,.0f} {cpu:>10,.0f}", flush=True)
        print(f"{'refused search':<42} {'refusal, µs':>17} {'index answers':>14}")
        for name, search in hostile().items():
            started = time.perf_counter()
            try:
                search_mentions(es, names, MentionFilter(query=search))
                refused = "ACCEPTED"
            except SearchTooComplexError as exc:
                refused = exc.bound
            spent = 1e6 * (time.perf_counter() - started)
            answers = es.count(index=MENTIONS.alias(names))["count"] == args.mentions
            print(f"{name + ' (' + refused + ')':<42} {spent:>17,.0f} {str(answers):>14}", flush=True)
    finally:
        drop_indices(es, names)
        if server:
            server.stop()


if __name__ == "__main__":
    main()
