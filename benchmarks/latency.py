"""End-to-end latency at steady rates: a post received -> searchable, and -> its alert delivered.

    .venv/bin/python benchmarks/latency.py [--rates 10 50 100] [--seconds 20] [--take 256] [--no-entities]

Starts its own embedded Elasticsearch stand-in on a free port and a local HTTP receiver that checks each
request's HMAC signature. For each rate, on fresh indices: a feeder thread "receives" posts at that rate
(sample posts, each made unique); the engine loop takes whatever has arrived (up to `--take`, like a
stream's `batch_max_events`) and runs the real Engine.process: enrich, bulk index, match every rule,
write the alert and its delivery, POST the signed webhook, refresh. Every post matches a benchmark rule
(no grouping), so every post is a sample of both latencies:

- searchable: Engine.process has returned for the post's batch, and that call ends with a refresh;
  the script checks after each rate that a search finds every post;
- alert delivered: the webhook carrying the post's alert arrived at the receiver.

A rate is sustained when the loop keeps up: when the feed ends, fewer than `--take` posts are waiting
(the first and last thirds' p50 are printed too, to see a queue building up). Also prints the peak
RSS of this pipeline process and of the stand-in.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scratch import scratch_settings
from synthetic import ROOT, sample_stream

from alerts.settings import AlertRule, WebhookChannel
from core.documents import RawPost
from core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from ecoute.config import Settings, load_settings
from ecoute.engine import Engine, RunReport
from index.client import IndexNames, embedded_server, open_index
from index.mention_search import MentionFilter
from index.mentions import count_mentions
from index.schema import drop_indices
from nlp.pipeline import mention_id

SECRET = "bench-secret"
MIB = 1024 * 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def peak_rss_mib(pid: int) -> float:
    """The high-water mark of a process's resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Receiver:
    """A local webhook endpoint: when each mention's alert arrived, and how many signatures were bad."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                at = time.perf_counter()
                try:
                    verify(
                        SECRET, self.headers.get(TIMESTAMP_HEADER), body, self.headers.get(SIGNATURE_HEADER)
                    )
                except Exception:
                    receiver.bad_signatures += 1
                alert = json.loads(body)["alert"]
                with receiver.lock:
                    for mention in alert["mention_ids"] or [alert["mention_id"]]:
                        receiver.arrivals.setdefault(mention, at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/hook"


def bench_settings(receiver: Receiver, entities: bool) -> Settings:
    settings = load_settings(ROOT / "config.yaml")
    settings.alerts.channels.webhooks = [WebhookChannel(name="bench", url=receiver.url)]
    settings.alerts.default_channels = ["webhook:bench"]
    settings.nlp.entities = entities
    settings.alerts.rules.append(
        AlertRule(
            name="bench-every-post",
            query="lumio OR box OR fibre OR zéphyr OR zephyr OR arcadia OR forfait OR the OR le OR la",
            cooldown_minutes=0,
            group_seconds=0,
        )
    )
    return settings


def run_rate(  # noqa: PLR0913
    es,
    settings: Settings,
    receiver: Receiver,
    rate: float,
    seconds: float,
    take: int,
    tag: str,  # noqa: ANN001
) -> None:
    names = IndexNames(f"bench{uuid.uuid4().hex[:8]}")
    try:
        engine = Engine(settings, es, names)
        engine.prepare()
        engine.import_customers()
        # Both languages' models load here, outside the timing (16 sample posts hold fr and en).
        engine.process(sample_stream(16, f"warm-{tag}"), RunReport(source="warm-up"))
        total = int(rate * seconds)
        posts = sample_stream(total, f"bench-{tag}")
        inbox: queue.Queue[RawPost] = queue.Queue()
        received: dict[str, float] = {}
        searchable: dict[str, float] = {}

        def feed() -> None:
            start = time.perf_counter()
            for i, post in enumerate(posts):
                time.sleep(max(0.0, start + i / rate - time.perf_counter()))
                received[mention_id(post.source, post.native_id)] = time.perf_counter()
                inbox.put(post)

        feeder = threading.Thread(target=feed)
        feeder.start()
        batches, report, backlog = [], RunReport(source="bench"), 0
        while feeder.is_alive() or not inbox.empty():
            try:
                batch = [inbox.get(timeout=0.05)]
            except queue.Empty:
                continue
            while len(batch) < take and not inbox.empty():
                batch.append(inbox.get_nowait())
            engine.process(batch, report)
            done = time.perf_counter()
            for post in batch:
                searchable[mention_id(post.source, post.native_id)] = done
            batches.append(len(batch))
            if not feeder.is_alive():
                backlog = max(backlog, inbox.qsize())
        feeder.join()
        time.sleep(0.5)
        found = count_mentions(es, names, MentionFilter(sources=[f"bench-{tag}"]))
        order = sorted(received, key=received.get)  # type: ignore[arg-type]
        to_search = [searchable[m] - received[m] for m in order if m in searchable]
        with receiver.lock:
            to_alert = [receiver.arrivals[m] - received[m] for m in order if m in receiver.arrivals]
        third = max(1, len(to_search) // 3)
        early, late = statistics.median(to_search[:third]), statistics.median(to_search[-third:])
        sustained = backlog < take
        print(
            f"{rate:.0f} posts/s for {seconds:.0f}s: {total} posts, {found} searchable, "
            f"{len(to_alert)} alerted ({len(report.failed)} not indexed, {receiver.bad_signatures} bad "
            f"signatures), batches of median {statistics.median(batches):.0f} (max {max(batches)}), "
            f"backlog at the end {backlog}: {'sustained' if sustained else 'NOT sustained'} "
            f"(searchable p50 {1000 * early:.0f} ms in the first third, {1000 * late:.0f} ms in the last)"
        )
        for label, values in (
            ("received -> searchable", to_search),
            ("received -> alert delivered", to_alert),
        ):
            if values:
                shown = "  ".join(
                    f"{name} {1000 * value:6.0f} ms"
                    for name, value in (
                        ("p50", percentile(values, 0.5)),
                        ("p95", percentile(values, 0.95)),
                        ("p99", percentile(values, 0.99)),
                        ("max", max(values)),
                    )
                )
                print(f"  {label:<28} {shown}")
    finally:
        drop_indices(es, names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[10.0, 50.0, 100.0], help="posts per second"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each rate is fed")
    parser.add_argument(
        "--take",
        type=int,
        default=256,
        help="most posts per Engine.process call (a stream's batch_max_events)",
    )
    parser.add_argument("--no-entities", action="store_true", help="skip spaCy NER (nlp.entities: false)")
    args = parser.parse_args()
    os.environ["ECOUTE_WEBHOOK_SECRET"] = SECRET
    receiver = Receiver()
    settings = bench_settings(receiver, entities=not args.no_entities)
    print(f"entities {'off' if args.no_entities else 'on'}, NLP batch {settings.nlp.batch_size}")
    with tempfile.TemporaryDirectory() as state:
        scratch = scratch_settings(Path(state), base=settings)
        server = embedded_server(scratch)
        es = open_index(scratch)
        try:
            for position, rate in enumerate(args.rates):
                run_rate(es, settings, receiver, rate, args.seconds, args.take, str(position))
            pipeline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            stand_in = peak_rss_mib(server.pid() or 0)
            print(f"peak RSS: pipeline process {pipeline:.0f} MiB, stand-in {stand_in:.0f} MiB")
        finally:
            server.stop()
            receiver.http.shutdown()


if __name__ == "__main__":
    main()
