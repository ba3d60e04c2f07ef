"""Throughput of the sample chain on this machine: enrich alone, then enrich + index + alerts.

    .venv/bin/python benchmarks/chain.py [--repeat 3]

Starts its own embedded Elasticsearch stand-in on a free port and removes its indices after.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from collectors.files import FileCollector, FileConfig
from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.writes import drop_indices
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(ROOT / "config.yaml")
    sample = FileCollector(FileConfig(name="sample", path=ROOT / "samples" / "mentions.jsonl"))
    posts = sample.fetch({}).posts
    enrich(posts[:8], CustomerDirectory(), settings.brand)  # load models once, outside the timing

    for entities in (True, False):
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            enrich(posts, CustomerDirectory(), settings.brand, with_entities=entities)
            runs.append(len(posts) / (time.perf_counter() - started))
        label = "enrich (with spaCy NER)" if entities else "enrich (no NER)"
        print(
            f"{label:<32} {statistics.median(runs):8.0f} mentions/s  "
            f"(median of {args.repeat}, {len(posts)} posts)"
        )

    with tempfile.TemporaryDirectory() as state:
        server = EmbeddedServer(Path(state), free_port())
        server.start()
        try:
            es = connect(server.url, settings.elasticsearch)
            runs = []
            for _ in range(args.repeat):
                names = IndexNames(f"bench{uuid.uuid4().hex[:8]}")
                engine = Engine(settings, es, names)
                engine.prepare()
                engine.import_customers()
                report = RunReport(source="sample")
                started = time.perf_counter()
                engine.process(posts, report)
                runs.append(len(posts) / (time.perf_counter() - started))
                assert report.indexed == len(posts), report.line()
                drop_indices(es, names)
            print(
                f"{'enrich + index + alerts':<32} {statistics.median(runs):8.0f} mentions/s  "
                f"(median of {args.repeat}, batch {settings.nlp.batch_size}, refresh per batch)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
