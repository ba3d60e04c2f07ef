"""What most commands start with: the settings of config.yaml and an engine on the opened index."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ecoute.config import Settings, load_settings

if TYPE_CHECKING:
    from ecoute.engine import Engine


def settings_of(config: Path) -> Settings:
    return load_settings(config)


def engine_of(config: Path) -> Engine:
    """An engine on the configured index (the embedded stand-in started if need be), indices ready."""
    from ecoute.engine import Engine
    from index.client import open_index

    settings = settings_of(config)
    engine = Engine(settings, open_index(settings))
    engine.prepare()
    return engine
