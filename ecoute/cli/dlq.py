"""`ecoute dlq list|retry`: the mentions the index refused, kept in the dead-letter file."""

from __future__ import annotations

from pathlib import Path

import typer

from ecoute.cli.common import engine_of
from ecoute.config import load_settings


def show(config: Path) -> None:
    """One line per refused mention, then how many (the index is not needed)."""
    from ecoute.spool import DeadLetters

    settings = load_settings(config)
    letters = DeadLetters(settings.resolve(settings.state_dir)).all()
    for letter in letters:
        typer.echo(letter.line())
    typer.echo(f"{len(letters)} mentions in the dead-letter file")


def retry(config: Path, ids: list[str] | None) -> None:
    """Index the refused mentions (or those named) again; exit 1 while some are still refused."""
    engine = engine_of(config)
    stored, refused = engine.retry_dead_letters(set(ids) if ids else None)
    typer.echo(f"dlq: {stored} stored, {refused} still refused")
    if refused:
        raise typer.Exit(1)
