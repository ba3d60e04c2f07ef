"""A small file source of real sample posts, and settings that make several batches of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecoute.config import Settings, load_settings
from tests.conftest import ROOT, write_config

NEGATIVE_RULE = {"name": "negative", "sentiment": ["negative"], "recipients": ["community@lumio.example"]}


def sample_posts(count: int) -> list[dict]:
    lines = (ROOT / "samples" / "mentions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:count]]


def write_posts(path: Path, posts: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    return path


def posts_config(tmp_path: Path, es_url: str, prefix: str, posts: Path, **overrides) -> Path:
    """config.yaml with one file source `posts`, batches of 10, one alert rule, quick bulk retries."""
    options = {
        "sources": [{"name": "posts", "type": "file", "path": str(posts), "interval_seconds": 60}],
        "nlp": {"batch_size": 10, "entities": False},
        "alerts": {"rules": [NEGATIVE_RULE]},
        "reliability": {"bulk_attempts": 2, "bulk_backoff_seconds": 0},
        "crm": {"customers_csv": str(ROOT / "samples" / "crm_customers.csv")},
    }
    options.update(overrides)
    return write_config(tmp_path, es_url, prefix, **options)


@pytest.fixture
def forty_posts(tmp_path: Path) -> Path:
    return write_posts(tmp_path / "posts.jsonl", sample_posts(40))


@pytest.fixture
def posts_settings(tmp_path: Path, es_server, names, forty_posts: Path) -> Settings:
    return load_settings(posts_config(tmp_path, es_server.url, names.prefix, forty_posts))


def ecoute(config: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    """`ecoute ARGS --config CONFIG` in a process of its own; `crash_at` makes it SIGKILL itself there."""
    env = {k: v for k, v in os.environ.items() if k != "ECOUTE_CRASH_AT"}
    if crash_at:
        env["ECOUTE_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "ecoute", *args, "--config", str(config)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
