"""An index that is away and comes back, in a real browser: the page says "reconnecting…" and reads the
index again by itself (Streamlit's timed fragment), with no click or reload."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from index.client import EmbeddedServer, free_port
from tests.browser.test_dashboard_in_chromium import ADMIN, PASSWORD, ROOT, wait_until_healthy
from tests.conftest import write_config

SCRIPT = ROOT / "tests" / "browser" / "reconnect.mjs"


def test_the_page_comes_back_by_itself_when_the_index_does(tmp_path: Path):
    node, chromium = shutil.which("node"), shutil.which("chromium") or "/usr/bin/chromium"
    assert node and Path(chromium).exists(), "run `make install-browser` (Debian's chromium and npm ci)"
    assert (ROOT / "node_modules" / "playwright-core").is_dir(), "run `npm ci` (make install-browser)"
    index = EmbeddedServer(tmp_path / "es", free_port())
    index.start()  # `ecoute dashboard` checks the index once, at start
    port = free_port()
    config = write_config(
        tmp_path,
        index.url,
        "reconnect",
        dashboard={"host": "127.0.0.1", "port": port, "reconnect_seconds": 1},
    )
    log = (tmp_path / "dashboard.log").open("w")
    dashboard = subprocess.Popen(
        [sys.executable, "-m", "ecoute", "dashboard", "--config", str(config)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "ECOUTE_CONFIG"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    browser = None
    try:
        wait_until_healthy(url, dashboard)
        index.stop()
        browser = subprocess.Popen(
            [node, str(SCRIPT), url, ADMIN, PASSWORD],
            cwd=ROOT,
            env={**os.environ, "CHROMIUM": chromium},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert browser.stdout is not None
        seen = [browser.stdout.readline().strip()]
        assert seen == ["away"], seen + browser.stdout.readlines()
        index.start()
        seen += [line.strip() for line in browser.stdout.readlines()]
        assert browser.wait(timeout=120) == 0, seen
        assert seen == ["away", "back"]
    finally:
        if browser and browser.poll() is None:
            browser.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dashboard.pid, signal.SIGTERM)
        dashboard.wait(timeout=20)
        log.close()
        index.stop()
