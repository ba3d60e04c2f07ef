"""Latency from a collector receiving a post to its alert arriving at a webhook, at a steady rate.

    .venv/bin/python benchmarks/alert_latency.py [--rate 50] [--seconds 20] [--no-entities]

Starts its own embedded Elasticsearch stand-in on a free port and a local HTTP receiver that checks each
request's HMAC signature. A feeder thread "receives" posts at `--rate` per second (sample posts, each
made unique); the engine loop takes whatever has arrived (up to the NLP batch size) and runs the real
Engine.process: enrich, index, match every rule, write the alert and its delivery, POST the webhook.
Every post matches a benchmark rule (query `lumio OR box OR fibre ...`, no grouping), so each one is a
sample. Prints p50 / p95 / max of receipt -> webhook arrival, and how many posts were alerted.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alerts.settings import AlertRule, WebhookChannel
from collectors.base import RawPost
from collectors.files import FileCollector, FileConfig
from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from ecoute.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.writes import drop_indices
from nlp.pipeline import mention_id

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50.0, help="posts per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-entities", action="store_true", help="skip spaCy NER (nlp.entities: false)")
    args = parser.parse_args()

    arrivals: dict[str, float] = {}
    bad_signatures = 0
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            nonlocal bad_signatures
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.perf_counter()
            try:
                verify(SECRET, self.headers.get(TIMESTAMP_HEADER), body, self.headers.get(SIGNATURE_HEADER))
            except Exception:
                bad_signatures += 1
            alert = json.loads(body)["alert"]
            with lock:
                for mention in alert["mention_ids"] or [alert["mention_id"]]:
                    arrivals.setdefault(mention, at)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    os.environ["ECOUTE_WEBHOOK_SECRET"] = SECRET

    settings = load_settings(ROOT / "config.yaml")
    settings.alerts.channels.webhooks = [
        WebhookChannel(name="bench", url=f"http://127.0.0.1:{http.server_address[1]}/hook")
    ]
    settings.alerts.default_channels = ["webhook:bench"]
    settings.nlp.entities = not args.no_entities
    settings.alerts.rules.append(
        AlertRule(
            name="bench-every-post",
            query="lumio OR box OR fibre OR zéphyr OR zephyr OR arcadia OR forfait OR the OR le OR la",
            cooldown_minutes=0,
            group_seconds=0,
        )
    )
    samples = (
        FileCollector(FileConfig(name="sample", path=ROOT / "samples" / "mentions.jsonl")).fetch({}).posts
    )

    with tempfile.TemporaryDirectory() as state:
        server = EmbeddedServer(Path(state), free_port())
        server.start()
        es = connect(server.url, settings.elasticsearch)
        names = IndexNames(f"bench{uuid.uuid4().hex[:8]}")
        try:
            engine = Engine(settings, es, names)
            engine.prepare()
            engine.import_customers()
            warm = RunReport(source="bench")
            engine.process([_unique(samples[0], "warm-up")], warm)  # models loaded outside the timing

            inbox: queue.Queue[RawPost] = queue.Queue()
            received: dict[str, float] = {}
            total = int(args.rate * args.seconds)

            def feed() -> None:
                start = time.perf_counter()
                for i in range(total):
                    time.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
                    post = _unique(samples[i % len(samples)], f"bench-{i}")
                    received[mention_id("bench", post.native_id)] = time.perf_counter()
                    inbox.put(post)

            feeder = threading.Thread(target=feed)
            feeder.start()
            batches, report = [], RunReport(source="bench")
            while feeder.is_alive() or not inbox.empty():
                try:
                    batch = [inbox.get(timeout=0.05)]
                except queue.Empty:
                    continue
                while len(batch) < settings.nlp.batch_size and not inbox.empty():
                    batch.append(inbox.get_nowait())
                engine.process(batch, report)
                batches.append(len(batch))
            feeder.join()
            time.sleep(0.5)
            with lock:
                latencies = [arrivals[m] - received[m] for m in received if m in arrivals]
            print(
                f"{total} posts at {args.rate:.0f}/s for {args.seconds:.0f}s: {len(latencies)} alerted and "
                f"delivered ({report.alerts} alerts, {len(report.failed)} not indexed, {bad_signatures} bad "
                f"signatures), batches of median {statistics.median(batches):.0f} (max {max(batches)}), "
                f"entities {'off' if args.no_entities else 'on'}"
            )
            if latencies:
                print(
                    f"receipt -> webhook: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                    f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
                )
        finally:
            drop_indices(es, names)
            server.stop()
            http.shutdown()


def _unique(post: RawPost, native_id: str) -> RawPost:
    return post.model_copy(
        update={
            "source": "bench",
            "native_id": native_id,
            "text": f"{post.text} ({native_id})",
            "created_at": datetime.now(UTC),
            "collected_at": datetime.now(UTC),
            "thread": post.thread.model_copy(update={"root_id": None, "parent_id": None}),
        }
    )


if __name__ == "__main__":
    main()
