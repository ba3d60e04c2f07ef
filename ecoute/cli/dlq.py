"""`ecoute dlq list|retry`: the mentions the index refused, kept in the dead-letter file."""

from __future__ import annotations

from pathlib import Path

import typer

from ecoute.cli.common import engine_of
from ecoute.cli.output import print_json, progress_bars, say
from ecoute.config import load_settings


def show(config: Path, as_json: bool) -> None:
    """One line per refused mention, then how many (the index is not needed)."""
    from ecoute.spool import DeadLetters

    settings = load_settings(config)
    letters = DeadLetters(settings.resolve(settings.state_dir)).all()
    if as_json:
        print_json([letter.model_dump(mode="json", exclude={"doc"}) for letter in letters])
        return
    for letter in letters:
        say(letter.line())
    say(f"{len(letters)} mentions in the dead-letter file")


def retry(config: Path, ids: list[str] | None, as_json: bool) -> None:
    """Index the refused mentions (or those named) again, as a progress bar; exit 1 while some are still
    refused."""
    engine = engine_of(config)
    with progress_bars(shown=not as_json) as progress:
        stored, refused = engine.retry_dead_letters(set(ids) if ids else None, progress)
    if as_json:
        print_json({"stored": stored, "still_refused": refused})
    else:
        say(f"dlq: {stored} stored, {refused} still refused")
    if refused:
        raise typer.Exit(1)
