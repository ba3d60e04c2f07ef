"""A benchmark's own index, opened the way `ecoute` opens one: settings handed to index.client.open_index."""

from __future__ import annotations

from pathlib import Path

from synthetic import ROOT

from ecoute.config import Settings, load_settings
from index.client import free_port


def scratch_settings(
    state_dir: Path,
    url: str | None = None,
    request_timeout: float | None = None,
    base: Settings | None = None,
) -> Settings:
    """`base` (default: config.yaml's settings) with its index moved: the cluster at `url`, or else an
    embedded stand-in of its own, its data under `state_dir` and on a free port."""
    settings = base or load_settings(ROOT / "config.yaml")
    index = {"url": url, "embedded_port": free_port()}
    if request_timeout is not None:
        index["request_timeout"] = request_timeout
    elasticsearch = settings.elasticsearch.model_copy(update=index)
    return settings.model_copy(update={"state_dir": Path(state_dir), "elasticsearch": elasticsearch})
