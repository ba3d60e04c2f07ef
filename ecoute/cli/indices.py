"""`ecoute index migrate|status`: the mentions' and alerts' period indices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ecoute.cli.common import engine_of
from ecoute.cli.output import progress_bars, say

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from core.config import IndexConfig
    from index.client import IndexNames


def migrate(config: Path, keep_old: bool, batch: int, max_batches: int | None) -> None:
    """Copy into period indices; exit 3 while the old single index is not finished with (resume later)."""
    from index.migration import migrate_to_periods

    engine = engine_of(config)
    with progress_bars() as progress:
        report = migrate_to_periods(engine.es, engine.names, keep_old, batch, max_batches, progress)
    say(report.line())
    if report.old and not report.finished:
        raise typer.Exit(3)


def status(config: Path) -> None:
    engine = engine_of(config)
    echo_layout(engine.es, engine.names, engine.settings.index)


def echo_layout(es: Elasticsearch, names: IndexNames, layout: IndexConfig) -> None:
    """Each mentions then alerts index with its count and layout, then the layout new indices will get."""
    from index.alerts import ALERTS
    from index.periods import MENTIONS, layout_text, period_layout

    for document in (MENTIONS, ALERTS):
        for index in period_layout(es, names, document):
            say(index.line())
    made = layout_text(layout.shards, layout.replicas, layout.lifecycle_policy)
    say(f"new indices (one per {layout.granularity}): {made} (config.yaml index:)")
