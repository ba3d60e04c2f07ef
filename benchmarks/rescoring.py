"""The accurate model's speed, and how far behind ingest its background re-scoring runs at steady rates.

    .venv/bin/python benchmarks/rescoring.py [--rates 1 10 50] [--seconds 30] [--drain 120]

Starts its own embedded stand-in on a free port. First, texts/s of each model on 256 sample posts
(batches of 32, one thread each) and the resident memory each adds once loaded. Then, per rate, on fresh
indices: a feeder runs the real Engine.process (fast model, entities on) on sample posts at that rate
while the real Rescorer runs in its own thread exactly as `ecoute run` starts it; the re-scoring lag of a
mention is from the moment its batch was stored to the moment the accurate labels were stored. After the
feed the worker gets `--drain` seconds to catch up; what is still waiting then is printed (newest first
means a backlog delays the oldest posts, never the newest).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from scratch import scratch_settings
from synthetic import ROOT, sample_stream

from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from ecoute.rescoring import Rescorer, RescoreReport
from index.client import IndexNames, embedded_server, open_index
from index.schema import drop_indices
from nlp.classifier import load_classifier, rescoring_classifier_for
from nlp.language import normalise
from nlp.pipeline import mention_id


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class TimedRescorer(Rescorer):
    """The real worker, noting when each mention's accurate labels were stored."""

    done: dict[str, float]

    def run_once(self) -> RescoreReport:
        report = super().run_once()
        now = time.perf_counter()
        for mention in report.ids:
            self.done.setdefault(mention, now)
        return report


def model_speed() -> None:
    posts = sample_stream(256, "speed")
    texts = [normalise(p.text).for_models for p in posts]
    languages = ["fr" if i % 2 else "en" for i in range(len(texts))]
    for name in ("fast", "accurate"):
        before = rss_mib()
        classifier = load_classifier(str(ROOT / "nlp" / "models" / name))
        classifier.predict(texts[:8], languages[:8])
        loaded = rss_mib() - before
        start = time.perf_counter()
        classifier.predict(texts, languages)
        rate = len(texts) / (time.perf_counter() - start)
        print(
            f"{name:<9} {rate:7.1f} texts/s (256 sample posts, batches of 32)   +{loaded:.0f} MiB once loaded"
        )


def run_rate(es, rate: float, seconds: float, drain: float) -> None:  # noqa: ANN001
    settings = load_settings(ROOT / "config.yaml")
    names = IndexNames(f"bench{uuid.uuid4().hex[:8]}")
    try:
        engine = Engine(settings, es, names)
        engine.prepare()
        engine.process(sample_stream(16, f"warm-{rate}"), RunReport(source="warm-up"))
        worker = TimedRescorer(engine, rescoring_classifier_for(settings))
        worker.done = {}
        worker.run_for(600)  # the warm-up posts, outside the timing
        stored: dict[str, float] = {}
        stop = threading.Event()
        thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
        thread.start()
        posts = sample_stream(int(rate * seconds), f"bench-{rate}")
        start = time.perf_counter()
        batch = max(1, int(rate))  # one batch a second
        for i in range(0, len(posts), batch):
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            chunk = posts[i : i + batch]
            engine.process(chunk, RunReport(source="bench"))
            at = time.perf_counter()
            for post in chunk:
                stored[mention_id(post.source, post.native_id)] = at
        fed = time.perf_counter() - start
        deadline = time.perf_counter() + drain
        while time.perf_counter() < deadline and len(set(stored) & set(worker.done)) < len(stored):
            time.sleep(0.5)
        stop.set()
        thread.join(timeout=60)
        lags = [worker.done[m] - t for m, t in stored.items() if m in worker.done]
        left = len(stored) - len(lags)
        line = f"{rate:5.0f} mentions/s for {fed:4.0f} s: {len(stored)} stored, "
        if lags:
            line += (
                f"re-scoring lag p50 {statistics.median(lags):6.1f} s  p95 {percentile(lags, 0.95):6.1f} s  "
                f"max {max(lags):6.1f} s"
            )
        print(line + f"; {left} still waiting {drain:.0f} s after the feed ended")
    finally:
        drop_indices(es, names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--drain", type=float, default=120)
    args = parser.parse_args()
    model_speed()
    with tempfile.TemporaryDirectory() as state:
        scratch = scratch_settings(Path(state))
        server = embedded_server(scratch)
        try:
            es = open_index(scratch)
            for rate in args.rates:
                run_rate(es, rate, args.seconds, args.drain)
        finally:
            server.stop()
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
