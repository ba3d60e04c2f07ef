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

from core.documents import RawPost
from crm.files import read_contacts_csv
from ecoute.config import load_settings
from ecoute.samples import sample_posts
from nlp.classifier import embed, load_classifier
from nlp.dedup import PostToCheck, StreamDeduplicator
from nlp.entities import extract_entities
from nlp.language import detect_language, normalise
from nlp.linking import CustomerDirectory, resolve_customer
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


def stage_times(
    posts: list[RawPost], directory: CustomerDirectory, classifier, batch: int, entities: bool
) -> dict[str, float]:
    """Seconds each pipeline stage takes on its own over `posts`, in batches."""
    times: dict[str, float] = {}

    def timed(stage: str, work) -> list:
        start = time.perf_counter()
        out = [work(i) for i in range(0, len(posts), batch)]
        times[stage] = time.perf_counter() - start
        return [x for chunk in out for x in chunk]

    normalised = timed("normalise", lambda i: [normalise(p.text) for p in posts[i : i + batch]])
    texts = [n.for_models for n in normalised]
    languages = timed("language", lambda i: [detect_language(t) for t in texts[i : i + batch]])
    if entities:
        found = timed(
            "entities (spaCy NER)", lambda i: extract_entities(texts[i : i + batch], languages[i : i + batch])
        )
    else:
        found = [[] for _ in posts]
    timed("sentiment + intents", lambda i: classifier.predict(texts[i : i + batch], languages[i : i + batch]))
    timed(
        "customer linking",
        lambda i: [
            resolve_customer(p, n, e, directory)
            for p, n, e in zip(
                posts[i : i + batch], normalised[i : i + batch], found[i : i + batch], strict=True
            )
        ],
    )
    detector = StreamDeduplicator()
    timed(
        "duplicate / spam flags",
        lambda i: detector.flag(
            [
                PostToCheck(id=p.native_id, text=p.text, author=p.author.handle, urls=[])
                for p in posts[i : i + batch]
            ]
        ),
    )
    return times


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
    stages = stage_times(posts, directory, classifier, args.batch, not args.no_entities)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cpus available: {len(os.sched_getaffinity(0))}")
    print(
        f"enrich: {len(posts)} mentions, batch {args.batch}, entities {'off' if args.no_entities else 'on'}: "
        f"{len(posts) / elapsed:.0f} mentions/s ({elapsed:.2f} s)"
    )
    print(f"of which sentence embeddings alone: {len(texts) / embed_elapsed:.0f} texts/s")
    print("each stage alone, one after the other (enrich overlaps entities with the classifier):")
    for stage, seconds in stages.items():
        print(f"  {stage:<28} {1000 * seconds / len(posts):6.2f} ms/mention  {len(posts) / seconds:7.0f} /s")
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
