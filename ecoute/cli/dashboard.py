"""`ecoute dashboard`: the Streamlit dashboard in a child process (also started by `ecoute run`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ecoute.cli.output import say
from ecoute.config import Settings, load_settings
from index.client import open_index

DASHBOARD_APP = Path(__file__).resolve().parent.parent.parent / "dashboard" / "app.py"


def start_dashboard(config: Path, settings: Settings) -> subprocess.Popen:
    """Streamlit serving the dashboard on dashboard.host:port, reading the same config.yaml."""
    env = {**os.environ, "ECOUTE_CONFIG": str(config.resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.address", settings.dashboard.host, "--server.port", str(settings.dashboard.port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    say(f"dashboard: http://{settings.dashboard.host}:{settings.dashboard.port}")
    return process


def dashboard(config: Path) -> None:
    """The dashboard until Ctrl-C, the index opened (and the embedded stand-in started) first."""
    settings = load_settings(config)
    open_index(settings)
    process = start_dashboard(config, settings)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
