"""What each part of the mentions' mapping costs the embedded stand-in: the mapping of schema version 1,
each lean change alone, and the lean mapping of schema version 2.

    cd benchmarks && PYTHONPATH=.. OMP_NUM_THREADS=1 ../.venv/bin/python mapping_cost.py [--size 30000]
        [--repeat 10] [--variants before stemmed exact stored doc_values after]

One fresh stand-in per variant, its mentions' template given the variant's mapping; `--size` mentions
spread over 12 months (month indices), with the sample posts' real text, author, thread, engagement and
payload (`raw`). Prints per variant the bulk write rate (whole load), the stand-in's resident memory after
the load, its data folder once stopped, and p50/p95 ms of the Inbox (7 days, attention order), Insights
(30 days), a customer's 90 days and a full-text search over 30 days.

Variants: `before` the v1 mapping (tests/fixtures/index/mentions-mapping-v1.json); `stemmed`, `exact`,
`stored`, `doc_values` the v1 mapping with one lean change (no `.fr`/`.en` sub-fields; no `.keyword`
sub-field; the fields only read back not indexed; no doc values on keywords never sorted or counted);
`after` the lean mapping (`mapping_for(Mention)`).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from index_footprint import folder_bytes, rss_bytes
from scratch import scratch_settings
from synthetic import ROOT, synthetic_mentions
from time_indices import measure

from core.documents import Entity, Mention
from index.client import IndexNames, embedded_server, open_index
from index.mappings import mapping_for
from index.mentions import index_mentions
from index.periods import MENTIONS, mention_indices
from index.schema import ensure_indices, index_templates

MIB = 1024 * 1024
BATCH = 2000
V1_MAPPING = ROOT / "tests" / "fixtures" / "index" / "mentions-mapping-v1.json"
CHANGES = ("stemmed", "exact", "stored", "doc_values")


def blend(before: dict[str, Any], after: dict[str, Any], changes: set[str]) -> dict[str, Any]:
    """The `before` mapping of one field (or object) with those of `changes` the `after` one makes."""
    if after.get("enabled") is False and before.get("enabled") is not False:
        return after if "stored" in changes else before
    if "properties" in before and "properties" in after:
        properties = {
            name: blend(field, after["properties"].get(name, field), changes)
            for name, field in before["properties"].items()
        }
        return {**before, "properties": properties}
    blended = dict(before)
    if after.get("doc_values") is False and "doc_values" in changes:
        blended["doc_values"] = False
    fields = dict(before.get("fields", {}))
    kept = after.get("fields", {})
    for name in list(fields):
        dropped = name not in kept
        if dropped and (
            ("stemmed" in changes and name in ("fr", "en")) or ("exact" in changes and name == "keyword")
        ):
            del fields[name]
    blended.pop("fields", None)
    return {**blended, "fields": fields} if fields else blended


def variant_mapping(variant: str) -> dict[str, Any]:
    before = json.loads(V1_MAPPING.read_text(encoding="utf-8"))
    after = mapping_for(Mention)
    if variant == "before":
        return before
    if variant == "after":
        return after
    return {**before, "properties": blend(before, after, {variant})["properties"]}


def realistic_mentions(size: int, customers: list[str], now: datetime) -> list[Mention]:
    """Synthetic enriched mentions over 12 months, each with a sample post's text, author, thread,
    engagement and its record as the payload a collector keeps (`raw`)."""
    posts = [
        json.loads(line) for line in (ROOT / "samples" / "mentions.jsonl").read_text("utf-8").splitlines()
    ]
    rng = random.Random(11)
    mentions = []
    for i, mention in enumerate(synthetic_mentions(size, customers, now)):
        post = posts[i % len(posts)]
        raw = {k: v for k, v in post.items() if k != "expected"}
        mentions.append(
            mention.model_copy(
                update={
                    "created_at": now - timedelta(minutes=rng.randrange(365 * 24 * 60)),
                    "text": f"{post['text']} lumio {mention.text}",
                    "title": post.get("title"),
                    "author": mention.author.model_copy(update={"id": post["author"].get("id")}),
                    "thread": mention.thread.model_validate(post["thread"]),
                    "engagement": mention.engagement.model_validate(post["engagement"]),
                    "intents": [mention.intent],
                    "entities": [Entity(text="Lumio", label="ORG")],
                    "flag_reasons": ["bench"] if i % 20 == 0 else [],
                    "raw": raw,
                }
            )
        )
    return mentions


def run(variant: str, mentions: list[Mention], now: datetime, customers: list[str], repeat: int) -> str:
    state = Path(tempfile.mkdtemp(prefix="ecoute-mapping-"))
    scratch = scratch_settings(state, request_timeout=120)
    server = embedded_server(scratch)
    try:
        es = open_index(scratch)
        names = IndexNames("bench-mapping")
        ensure_indices(es, names)
        es.indices.delete(index=",".join(mention_indices(es, names)))
        (template,) = [t for t in index_templates(names) if t.alias == MENTIONS.alias(names)]
        body = {
            **template.body,
            "template": {**template.body["template"], "mappings": variant_mapping(variant)},
        }
        es.indices.put_index_template(name=template.name, **body)
        started = time.perf_counter()
        for at in range(0, len(mentions), BATCH):
            index_mentions(es, names, mentions[at : at + BATCH], refresh=False)
        rate = len(mentions) / (time.perf_counter() - started)
        es.indices.refresh(index=MENTIONS.alias(names))
        rss = rss_bytes(server.pid()) / MIB
        cells = measure(es, names, now, customers, repeat)
    finally:
        server.stop()
    disk = folder_bytes(state) / MIB  # what the stand-in wrote when it stopped
    shutil.rmtree(state, ignore_errors=True)
    shown = " | ".join(f"{a:5.0f}/{b:5.0f}" for a, b in cells)
    return f"{variant:10} | {rate:6.0f} | {rss:7.0f} | {disk:8.1f} | {shown}"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--variants", nargs="+", default=["before", *CHANGES, "after"])
    args = parser.parse_args()
    now = datetime.now(UTC)
    customers = [f"C-{1001 + i}" for i in range(60)]
    mentions = realistic_mentions(args.size, customers, now)
    print(f"{args.size:,} mentions over 12 months, month indices; p50/p95 ms; load average {_load()}")
    print("variant    | bulk/s | RSS MiB | disk MiB | inbox 7d    | insights 30d | customer 90d | text 30d")
    for variant in args.variants:
        print(run(variant, mentions, now, customers, args.repeat), flush=True)


if __name__ == "__main__":
    main()
