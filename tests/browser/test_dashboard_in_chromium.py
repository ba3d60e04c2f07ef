"""The dashboard in Debian's Chromium, driven by playwright-core, served by `ecoute dashboard` on the
indexed sample data. Screenshots of every page land in test-artifacts/browser/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from ecoute.config import load_settings
from ecoute.engine import Engine
from index.client import EmbeddedServer, IndexNames, free_port
from index.mention_search import MentionFilter, search_mentions
from index.mentions import count_mentions, get_mentions_versioned, index_mentions
from index.triage import update_triage
from tests.conftest import write_config
from tests.factories import make_mention

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "dashboard.mjs"
ADMIN, PASSWORD = "admin@lumio.example", "lumio-demo"  # a demo user of the shipped config.yaml
CM = "community@lumio.example"
PAGES_SHOT = (
    "inbox-live",
    "sign-in",
    "inbox",
    "deep-link",
    "inbox-triaged",
    "customer",
    "insights",
    "alerts",
    "admin",
    "review",
)


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`ecoute dashboard` exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")


@pytest.fixture
def served_dashboard(
    es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, tmp_path: Path
) -> Iterator[str]:
    """The sample data collected and enriched into this test's indices, served by `ecoute dashboard`."""
    port = free_port()
    config = write_config(
        tmp_path, es_server.url, names.prefix, dashboard={"host": "127.0.0.1", "port": port}
    )
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    engine.import_customers()
    engine.collect("sample")
    log = (tmp_path / "dashboard.log").open("w")
    # Its own process group: `ecoute dashboard` runs Streamlit as a child, and both must stop.
    process = subprocess.Popen(
        [sys.executable, "-m", "ecoute", "dashboard", "--config", str(config)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "ECOUTE_CONFIG"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def test_sign_in_triage_and_open_a_customer_in_chromium(
    served_dashboard: str, es: Elasticsearch, names: IndexNames, artifacts_dir: Path
):
    node, chromium = shutil.which("node"), shutil.which("chromium") or "/usr/bin/chromium"
    assert node and Path(chromium).exists(), "run `make install-browser` (Debian's chromium and npm ci)"
    assert (ROOT / "node_modules" / "playwright-core").is_dir(), "run `npm ci` (make install-browser)"
    newest = search_mentions(es, names, MentionFilter(), size=1).hits[0].mention
    linked = search_mentions(es, names, MentionFilter(customers_only=True), size=1).hits[0].mention
    far = search_mentions(es, names, MentionFilter(), size=60).hits[-1].mention  # beyond the first page
    shots = artifacts_dir / "browser"
    shutil.rmtree(shots, ignore_errors=True)
    script = subprocess.Popen(
        [node, str(SCRIPT), served_dashboard, str(shots), ADMIN, PASSWORD, linked.customer_id, far.id],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM": chromium},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    assert script.stdout is not None
    for line in script.stdout:  # a mention collected while the Inbox is open, when the script says so
        said.append(line)
        if line.strip() == "ready for a new mention":
            late = make_mention(
                "collected-while-open",
                text="Lumio, arrivée pendant que la boîte était ouverte.",
                # Written just before the newest (inside the Inbox's 7 days): "newest" stays the same.
                created_at=newest.created_at - timedelta(minutes=1),
                collected_at=datetime.now(UTC),
            )
            index_mentions(es, names, [late])
            given = search_mentions(es, names, MentionFilter(), size=2).hits[1].mention  # not the newest
            doc = get_mentions_versioned(es, names, [given.id])[given.id]  # in its own period index
            update_triage(es, names, given.id, {"assignee": ADMIN}, CM, doc.seq_no, doc.primary_term)
    assert script.wait(timeout=600) == 0, "".join(said)
    assert count_mentions(es, names, MentionFilter(statuses=["answered"])) == 1
    triaged = search_mentions(es, names, MentionFilter(statuses=["answered"])).hits[0].mention
    assert triaged.id == newest.id
    assert [(c.by, c.field, c.old, c.new) for c in triaged.history] == [(ADMIN, "status", "new", "answered")]
    for name in PAGES_SHOT:
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
