"""What the stand-in's write journal costs: ingest with and without it, on the embedded stand-in.

    .venv/bin/python benchmarks/durability.py [--posts 1000] [--batch 64] [--rounds 2]

The embedded stand-in acknowledges a write before it saves it, so Écoute keeps each acknowledged batch in
`state_dir/journal` (one fsynced file per batch) until the stand-in has had time to save it. A real
cluster's acknowledgement is durable already, and there Écoute writes no journal. This script runs
`Engine.process` (enrichment, bulk create, alerts, as `ecoute collect` does) over the same unique
sample posts twice per round on fresh indices, once with the journal (the stand-in) and once without
it (what Écoute does on a real cluster, simulated by telling the engine the index is one), and prints
posts/s of each, how long `confirm_journal` takes to clear what was journaled, and what writing one
journal segment costs alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from scratch import scratch_settings
from synthetic import ROOT, sample_stream

from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from ecoute.spool import Journal, SpooledOp
from index.client import IndexNames, embedded_server, open_index
from index.schema import drop_indices
from nlp.linking import CustomerDirectory


def ingest(url: str, state: Path, posts: list, batch: int, journal: bool) -> tuple[float, float, int]:
    """(posts/s, seconds to clear the journal, journal segments written) of one run on fresh indices."""
    settings = load_settings(ROOT / "config.yaml")
    settings.elasticsearch.url = url
    settings.elasticsearch.index_prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings.state_dir = state / uuid.uuid4().hex[:8]
    settings.nlp.batch_size = batch
    settings.nlp.entities = False
    engine = Engine(settings, open_index(settings, check=False))
    engine.prepare()
    if not journal:  # what Écoute knows about a real cluster: its acknowledgement is durable
        engine.storage.index_process = None
    engine.process(posts[:batch], RunReport(source="warm-up"))  # models loaded before the clock starts
    posts = posts[batch:]
    started = time.perf_counter()
    engine.process(posts, RunReport(source="bench"))
    rate = len(posts) / (time.perf_counter() - started)
    segments = len(engine.journal.segments())
    time.sleep(settings.reliability.standin_saved_after_seconds)
    started = time.perf_counter()
    engine.confirm_journal()
    cleared = time.perf_counter() - started
    assert not engine.journal.segments(), "the journal was not cleared"
    drop_indices(engine.es, IndexNames(settings.elasticsearch.index_prefix))
    return rate, cleared, segments


def journal_append_ms(state: Path, posts: list, batch: int) -> float:
    """Milliseconds one journal segment of `batch` enriched mentions takes to write (fsynced)."""
    from nlp.pipeline import enrich

    mentions = enrich(posts[:batch], CustomerDirectory(), load_settings(ROOT / "config.yaml").brand)
    journal = Journal(state / "journal-alone")
    started = time.perf_counter()
    for _ in range(10):
        journal.append(
            [
                SpooledOp(op="create", id=m.id, source=m.source, doc=m.model_dump(mode="json"))
                for m in mentions
            ],
            tag="1",
        )
    return (time.perf_counter() - started) / 10 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    posts = sample_stream(args.posts + args.batch, "durability")
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded_server(scratch_settings(Path(tmp) / "es"))
        server.start()
        rates: dict[bool, list[float]] = {False: [], True: []}
        try:
            for round_ in range(1, args.rounds + 1):
                # alternate which goes first, so a machine that slows down or warms up favours neither
                for journal in (False, True) if round_ % 2 else (True, False):
                    rate, cleared, segments = ingest(server.url, Path(tmp), posts, args.batch, journal)
                    rates[journal].append(rate)
                    what = "with journal   " if journal else "without journal"
                    print(
                        f"round {round_} {what}: {rate:7.1f} posts/s ({args.posts} posts, batches of "
                        f"{args.batch}); {segments} journal segments left at the end, cleared in "
                        f"{cleared * 1000:.0f} ms"
                    )
        finally:
            server.stop()
        append_ms = journal_append_ms(Path(tmp), posts, args.batch)
    without, with_ = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"median: without journal {without:.1f} posts/s, with journal {with_:.1f} posts/s "
        f"({(with_ / without - 1) * 100:+.1f}%); one journal segment of {args.batch} mentions alone: "
        f"{append_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
