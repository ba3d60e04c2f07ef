"""What most commands start with: an engine on the index config.yaml names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ecoute.config import load_settings

if TYPE_CHECKING:
    from ecoute.engine import Engine


def engine_of(config: Path) -> Engine:
    """An engine on the configured index (the embedded stand-in started if need be), indices ready."""
    from ecoute.engine import Engine
    from index.client import open_index

    settings = load_settings(config)
    engine = Engine(settings, open_index(settings))
    engine.prepare()
    return engine
