"""Scaling: throughput with 1, 2 and 4 worker processes sharing one index and one state directory.

    .venv/bin/python benchmarks/workers.py [--workers 1 2 4] [--sources 8] [--posts 256] [--no-entities]

Writes `--sources` JSONL files of `--posts` unique sample posts each and configures them as file
sources. For each worker count, on fresh indices and a fresh shared state directory, it starts that many
processes (spawned, each with its own Engine, models loaded before the clock starts). Each worker goes
round the sources running `Engine.collect(source, use_lock=True)`, as `ecoute run` does: a source's
lease in the state index lets one process at a time run it, and its cursor (in the index and in the
shared state directory) tells the others it is done. Workers stop once every source has a cursor.

Prints mentions/s from the start signal to the last worker's end, what each worker did, and checks that
the index holds each post exactly once (the count equals the posts written; every post was indexed as
new by exactly one worker), that no mention is in two alerts of one rule, and that each rule alerted
the same mentions as with one worker.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from scratch import scratch_settings
from synthetic import ROOT, sample_stream

from collectors.files import FileConfig
from ecoute.config import Settings, load_settings
from index.alerts import ALERTS
from index.client import IndexNames, embedded_server, open_index
from index.periods import MENTIONS


def worker_settings(feeds: list[Path], prefix: str, url: str, state: Path, entities: bool) -> Settings:
    settings = load_settings(ROOT / "config.yaml")
    settings.sources = [FileConfig(name=path.stem, path=path, interval_seconds=6) for path in feeds]
    settings.elasticsearch.url = url
    settings.elasticsearch.index_prefix = prefix
    settings.state_dir = state
    settings.nlp.entities = entities
    return settings


def work(settings: Settings, number: int, start: mp.Barrier, results: mp.Queue) -> None:  # type: ignore[type-arg]
    """One worker process: load the models, wait for the start, collect until every source is done."""
    from ecoute.engine import Engine
    from index.state import get_state
    from nlp.pipeline import enrich

    es = open_index(settings, check=False)
    engine = Engine(settings, es)
    engine.prepare()
    enrich(sample_stream(4, "warm-up"), engine.directory, settings.brand, with_entities=settings.nlp.entities)
    names = [s.name for s in settings.sources]
    done = Counter()
    start.wait()
    started = time.perf_counter()
    while True:
        for name in names[number % len(names) :] + names[: number % len(names)]:
            report = engine.collect(name, use_lock=True)
            done["runs"] += 1
            done["skipped (lease held by another)"] += bool(report.skipped)
            done["fetched"] += report.fetched
            done["indexed"] += report.indexed
            done["duplicates"] += report.duplicates
            done["alerts"] += report.alerts
            if report.error:
                done["errors"] += 1
        if all(get_state(es, engine.names, f"cursor:{name}") for name in names):
            break
    engine.release()
    results.put((number, time.perf_counter() - started, dict(done)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--posts", type=int, default=256, help="posts per source")
    parser.add_argument("--no-entities", action="store_true", help="skip spaCy NER (nlp.entities: false)")
    args = parser.parse_args()
    spawn = mp.get_context("spawn")
    total = args.sources * args.posts
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        feeds = []
        for k in range(args.sources):
            path = tmp / f"feed-{k}.jsonl"
            posts = sample_stream(args.posts, path.stem)
            path.write_text("".join(p.model_dump_json() + "\n" for p in posts), encoding="utf-8")
            feeds.append(path)
        scratch = scratch_settings(tmp / "index")
        server = embedded_server(scratch)
        es = open_index(scratch)
        alerts_with_one: dict[str, tuple[int, int]] | None = None
        print(
            f"{args.sources} file sources x {args.posts} posts = {total} posts, "
            f"entities {'off' if args.no_entities else 'on'}, {mp.cpu_count()} CPUs"
        )
        try:
            for count in args.workers:
                prefix = f"bench{uuid.uuid4().hex[:8]}"
                settings = worker_settings(
                    feeds, prefix, server.url, tmp / f"state-{prefix}", not args.no_entities
                )
                start, results = spawn.Barrier(count + 1), spawn.Queue()
                processes = [
                    spawn.Process(target=work, args=(settings, n, start, results)) for n in range(count)
                ]
                for process in processes:
                    process.start()
                start.wait(timeout=300)
                began = time.perf_counter()
                reports = [results.get(timeout=1800) for _ in processes]
                wall = time.perf_counter() - began
                for process in processes:
                    process.join()
                names = IndexNames(prefix)
                es.indices.refresh(index=MENTIONS.alias(names))
                stored = es.count(index=MENTIONS.alias(names))["count"]
                indexed = sum(r[2].get("indexed", 0) for r in reports)
                by_rule = _alerts_by_rule(es, names)
                alerts_with_one = alerts_with_one or by_rule
                print(
                    f"{count} worker(s): {total / wall:6.0f} mentions/s ({wall:.1f} s); index holds {stored} "
                    f"of {total} posts; indexed as new {indexed} times; "
                    f"mentions alerted per rule (distinct, repeated): "
                    f"{'same as 1 worker' if by_rule == alerts_with_one and count > 1 else by_rule}"
                )
                for number, seconds, done in sorted(reports):
                    print(
                        f"    worker {number}: {seconds:.1f} s, "
                        + ", ".join(f"{k} {v}" for k, v in done.items())
                    )
                repeated = sum(r for _, r in by_rule.values())
                if stored != total or indexed != total or repeated:
                    raise SystemExit("duplicates or losses: see the line above")
        finally:
            server.stop()


def _alerts_by_rule(es, names: IndexNames) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    """Per rule: (distinct mentions alerted, mentions alerted more than once)."""
    seen: dict[str, Counter] = {}
    answer = es.search(
        index=ALERTS.alias(names), size=10_000, source=["rule", "mention_id", "mention_ids", "kind"]
    )
    for hit in answer["hits"]["hits"]:
        alert = hit["_source"]
        if alert.get("kind", "mention") == "mention":
            seen.setdefault(alert["rule"], Counter()).update(
                alert.get("mention_ids") or [alert["mention_id"]]
            )
    return {rule: (len(c), sum(1 for n in c.values() if n > 1)) for rule, c in sorted(seen.items())}


if __name__ == "__main__":
    main()
