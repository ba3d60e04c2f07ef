"""The hostile post of tests/dashboard/test_untrusted_text.py in a real browser: Streamlit's own Markdown
renderer (react-markdown with remark-gfm) makes no anchor to the hostile addresses on any page."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from elasticsearch import Elasticsearch

from index.client import EmbeddedServer, IndexNames, free_port
from tests.browser.test_dashboard_in_chromium import ADMIN, PASSWORD, ROOT, wait_until_healthy
from tests.conftest import write_config
from tests.dashboard.test_untrusted_text import POST_URL, plant_hostile_post

SCRIPT = ROOT / "tests" / "browser" / "hostile.mjs"


def test_a_hostile_post_makes_no_anchor_in_chromium(
    es_server: EmbeddedServer, es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    node, chromium = shutil.which("node"), shutil.which("chromium") or "/usr/bin/chromium"
    assert node and Path(chromium).exists(), "run `make install-browser` (Debian's chromium and npm ci)"
    assert (ROOT / "node_modules" / "playwright-core").is_dir(), "run `npm ci` (make install-browser)"
    plant_hostile_post(es, names)
    port = free_port()
    config = write_config(
        tmp_path, es_server.url, names.prefix, dashboard={"host": "127.0.0.1", "port": port}
    )
    log = (tmp_path / "dashboard.log").open("w")
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
        result = subprocess.run(
            [node, str(SCRIPT), url, ADMIN, PASSWORD],
            cwd=ROOT,
            env={**os.environ, "CHROMIUM": chromium},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
    assert result.returncode == 0, result.stdout + result.stderr
    pages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [p["page"] for p in pages] == ["inbox", "customer", "alerts", "review"]
    hostile = {p["page"]: [link for link in p["links"] if "phish" in link or "a@b.c" in link] for p in pages}
    assert hostile == {"inbox": [], "customer": [], "alerts": [], "review": []}
    assert POST_URL in pages[0]["links"]  # the post's own address is still a link
