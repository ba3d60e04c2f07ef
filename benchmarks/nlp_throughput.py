"""Mentions per second through the whole `enrich` pipeline at batch 32, and peak memory.

    .venv/bin/python benchmarks/nlp_throughput.py [--mentions 1024] [--batch 32] [--no-entities]

All steps are on by default: language, normalisation, spaCy entities, customer linking against the
sample CRM, sentiment + intents (the bundled default model). Models are loaded before the clock starts.
The USE encoder uses 1 BLAS thread (see nlp/classifier.py for why).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from collectors.base import RawPost
from crm.files import read_contacts_csv
from ecoute.config import load_settings
from ecoute.samples import sample_posts
from nlp.classifier import embed, load_classifier
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich

ROOT = Path(__file__).resolve().parent.parent


def repeated_sample(count: int) -> list[RawPost]:
    """`count` posts cycling through the bundled sample, each with its own id."""
    posts, _ = sample_posts()
    return [
        posts[i % len(posts)].model_copy(
            update={"source": "bench", "native_id": f"{posts[i % len(posts)].native_id}-{i}"}
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-entities", action="store_true")
    args = parser.parse_args()

    settings = load_settings(ROOT / "config.yaml")
    customers = read_contacts_csv(settings.resolve(settings.crm.customers_csv)).customers
    directory = CustomerDirectory(customers)
    posts = repeated_sample(args.mentions)
    classifier = load_classifier()
    enrich(posts[:8], directory, settings.brand, classifier=classifier)  # load every model first

    start = time.perf_counter()
    for i in range(0, len(posts), args.batch):
        enrich(
            posts[i : i + args.batch],
            directory,
            settings.brand,
            with_entities=not args.no_entities,
            batch_size=args.batch,
            classifier=classifier,
        )
    elapsed = time.perf_counter() - start

    texts = [p.text for p in posts]
    start = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        embed(texts[i : i + args.batch], args.batch)
    embed_elapsed = time.perf_counter() - start

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cpus available: {len(os.sched_getaffinity(0))}")
    print(
        f"enrich: {len(posts)} mentions, batch {args.batch}, entities {'off' if args.no_entities else 'on'}: "
        f"{len(posts) / elapsed:.0f} mentions/s ({elapsed:.2f} s)"
    )
    print(f"of which sentence embeddings alone: {len(texts) / embed_elapsed:.0f} texts/s")
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
