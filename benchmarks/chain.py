"""Sustained throughput of the whole chain on this machine, and where the time goes.

    .venv/bin/python benchmarks/chain.py [--posts 2048] [--repeat 3] [--no-entities]

Starts its own embedded Elasticsearch stand-in on a free port and removes its indices after. The
stream is `--posts` unique copies of the bundled sample posts (samples/mentions.jsonl), with the
rules of config.yaml. Three measurements, each on a fresh set of indices, median of `--repeat`:

- enrich only: the NLP pipeline, batch by batch;
- serial (how Engine.process worked before): per batch, enrich -> bulk index -> refresh -> review
  queue -> rule matching and alerts, one after the other, each stage timed: the profile per stage;
- pipelined (now): `Engine.process` as `ecoute run` uses it, enriching the next batch while the current
  one is indexed and alerted, with one refresh at the end of the run instead of one per batch.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from scratch import scratch_settings
from synthetic import ROOT, sample_stream

from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from index.client import IndexNames, embedded_server, open_index
from index.mentions import count_mentions, refresh_mentions
from index.schema import drop_indices


class Stopwatch:
    """Seconds spent per named stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def run(self, stage: str, work, *args):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        result = work(*args)
        self.spent[stage] += time.perf_counter() - started
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-entities", action="store_true", help="skip spaCy NER (nlp.entities: false)")
    args = parser.parse_args()
    settings = load_settings(ROOT / "config.yaml")
    settings.nlp.entities = not args.no_entities
    posts = sample_stream(args.posts)
    batch = settings.nlp.batch_size
    chunks = [posts[i : i + batch] for i in range(0, len(posts), batch)]

    with tempfile.TemporaryDirectory() as state:
        scratch = scratch_settings(Path(state), base=settings)
        server = embedded_server(scratch)
        es = open_index(scratch)
        made: list[IndexNames] = []

        def fresh_engine() -> Engine:
            made.append(IndexNames(f"bench{uuid.uuid4().hex[:8]}"))
            engine = Engine(settings, es, made[-1])
            engine.prepare()
            engine.import_customers()
            return engine

        try:
            fresh_engine().process(posts[:8], RunReport(source="warm-up"))  # models load outside timing
            rates: dict[str, list[float]] = defaultdict(list)
            profiles: list[dict[str, float]] = []
            for _ in range(args.repeat):
                engine = fresh_engine()
                started = time.perf_counter()
                for chunk in chunks:
                    engine.enrichment.enrich(chunk, engine.directory)
                rates["enrich only"].append(len(posts) / (time.perf_counter() - started))

                engine, watch, report = fresh_engine(), Stopwatch(), RunReport(source="bench")
                started = time.perf_counter()
                for chunk in chunks:
                    mentions = watch.run("enrich (NLP)", engine.enrichment.enrich, chunk, engine.directory)
                    watch.run("bulk index", engine.storage.store, mentions, report)
                    watch.run("refresh", refresh_mentions, es, engine.names)
                    watch.run("review queue", engine.storage.queue_reviews, mentions)
                    report.alerts += watch.run(
                        "rules + alerts", engine.alerter.handle, mentions, engine.directory
                    )
                rates["serial: enrich, index, alerts"].append(len(posts) / (time.perf_counter() - started))
                profiles.append(watch.spent)
                _check(es, engine, len(posts))

                engine, report = fresh_engine(), RunReport(source="bench")
                started = time.perf_counter()
                engine.process(posts, report)
                rates["pipelined: Engine.process"].append(len(posts) / (time.perf_counter() - started))
                _check(es, engine, len(posts))
            print(
                f"{len(posts)} posts, batch {batch}, entities {'off' if args.no_entities else 'on'}, "
                f"median of {args.repeat} runs"
            )
            for label, runs in rates.items():
                print(
                    f"  {label:<32} {statistics.median(runs):6.0f} mentions/s   runs: "
                    + ", ".join(f"{r:.0f}" for r in runs)
                )
            print("where the time goes (serial run, median):")
            total = statistics.median(sum(p.values()) for p in profiles)
            for stage in profiles[0]:
                seconds = statistics.median(p[stage] for p in profiles)
                per_mention, share = 1000 * seconds / len(posts), 100 * seconds / total
                print(f"  {stage:<24} {per_mention:6.2f} ms/mention  {share:5.1f}%")
        finally:
            for names in made:
                drop_indices(es, names)
            server.stop()


def _check(es, engine: Engine, expected: int) -> None:  # noqa: ANN001
    stored = count_mentions(es, engine.names)
    if stored != expected:
        raise SystemExit(f"expected {expected} mentions in the index, found {stored}")


if __name__ == "__main__":
    main()
