"""Worst-case time and memory of enriching one poison post (issue 16, "any text is safe").

    .venv/bin/python benchmarks/poison_text.py [--repeat 5] [--no-entities]

Each case runs in its own process: the models are loaded and warmed on a short post first, then the
poison post is enriched `--repeat` times, alone in its batch, with every step on (language, spaCy
entities with the brand of config.yaml, fuzzy customer linking against the sample CRM, since its author
is named like a customer, sentiment + intents, duplicate flags). Printed per case: the slowest run,
the resident memory before it and the peak during it (sampled every 2 ms from /proc/self/statm).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "1,000,000 characters of prose": lambda: (
        "Ma box Lumio ne marche plus depuis ce matin, le support ne répond pas. " * 15_000
    )[:1_000_000],
    "10,000 hashtags": lambda: " ".join(f"#lumio{i}" for i in range(10_000)),
    "1,000,000 characters, no space": lambda: "a" * 1_000_000,
    "lone surrogates and NUL bytes": lambda: "Ma box \ud800 Lumio\x00 ne marche plus \udfff" * 10,
}


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident memory seen while the block runs."""

    def __enter__(self) -> PeakRss:
        self.peak, self._stop = rss_bytes(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def run_case(name: str, repeat: int, entities: bool) -> dict:
    from core.documents import RawPost
    from crm.files import read_contacts_csv
    from ecoute.config import load_settings
    from nlp.linking import CustomerDirectory
    from nlp.pipeline import enrich

    brand = load_settings(ROOT / "config.yaml").brand
    directory = CustomerDirectory(read_contacts_csv(ROOT / "samples" / "crm_customers.csv").customers)
    text = CASES[name]()

    def post(native_id: str, body: str) -> RawPost:
        return RawPost(
            source="bench",
            platform="mastodon",
            native_id=native_id,
            text=body,
            author={"display_name": "Lucy Cox", "handle": "lcox99"},
            created_at=datetime.now(UTC),
        )

    enrich([post("warm", "Ma box Lumio redémarre toute seule, merci Lucy")], directory, brand, entities)
    slowest, before, peak = 0.0, rss_bytes(), 0
    for run in range(repeat):
        with PeakRss() as memory:
            started = time.perf_counter()
            enrich([post(f"poison-{run}", text)], directory, brand, entities)
            slowest = max(slowest, time.perf_counter() - started)
        peak = max(peak, memory.peak)
    return {"case": name, "chars": len(text), "seconds": slowest, "rss_before": before, "rss_peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-entities", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child process's one case
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.repeat, not args.no_entities)))
        return
    print(f"{'case':<34} {'chars':>9} {'slowest s':>10} {'RSS before MiB':>15} {'peak MiB':>9} {'+MiB':>6}")
    for name in CASES:
        command = [sys.executable, __file__, "--case", name, "--repeat", str(args.repeat)]
        command += ["--no-entities"] if args.no_entities else []
        result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        before, peak = result["rss_before"] / 2**20, result["rss_peak"] / 2**20
        print(
            f"{name:<34} {result['chars']:>9,} {result['seconds']:>10.3f} {before:>15.0f} {peak:>9.0f}"
            f" {peak - before:>6.0f}"
        )


if __name__ == "__main__":
    main()
