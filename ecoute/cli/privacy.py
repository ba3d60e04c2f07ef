"""`ecoute gdpr erase|export|retention`: one person's data erased or exported, and retention applied."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.errors import EcouteError
from ecoute.cli.common import engine_of
from ecoute.cli.output import json_text, say

if TYPE_CHECKING:
    from ecoute.privacy import Person


def _person(author: list[str] | None, email: list[str] | None) -> Person:
    from ecoute.privacy import Person

    if not author and not email:
        raise EcouteError("say who: --author HANDLE and/or --email ADDRESS")
    return Person(handles=list(author or []), emails=list(email or []))


def erase(config: Path, author: list[str] | None, email: list[str] | None) -> None:
    engine = engine_of(config)
    counts = engine.gdpr().erase(_person(author, email))
    say("erased: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))


def export(config: Path, author: list[str] | None, email: list[str] | None, out: Path | None) -> None:
    """The person's data as JSON, on stdout or in `out` (then only the counts are printed)."""
    engine = engine_of(config)
    data = engine.gdpr().export(_person(author, email))
    text = json_text(data.as_json(), indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        say(f"exported to {out}: " + ", ".join(f"{n} {k}" for k, n in data.counts().items()))
    else:
        typer.echo(text)


def retention(config: Path) -> None:
    engine = engine_of(config)
    for source, deleted in engine.apply_retention().items():
        say(f"{source}: {deleted} mentions past retention deleted")
