"""Source type -> collector class. Adding a source: one module, one entry here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from collectors.base import Collector
from collectors.bluesky import BlueskyCollector, BlueskyConfig
from collectors.files import FileCollector, FileConfig
from collectors.mastodon import MastodonCollector, MastodonConfig
from collectors.rss import RssCollector, RssConfig

AnySourceConfig = Annotated[
    RssConfig | FileConfig | MastodonConfig | BlueskyConfig, Field(discriminator="type")
]


def build_collector(config: AnySourceConfig, base_dir: Path) -> Collector:
    """Make the collector a config block describes; relative paths resolve against base_dir."""
    if isinstance(config, FileConfig):
        return FileCollector(config, base_dir=base_dir)
    if isinstance(config, MastodonConfig):
        return MastodonCollector(config)
    if isinstance(config, BlueskyConfig):
        return BlueskyCollector(config)
    return RssCollector(config)
