"""Source type -> collector class. Adding a source: one module, one entry here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from collectors.base import Collector
from collectors.discourse import DiscourseCollector, DiscourseConfig
from collectors.files import FileCollector, FileConfig
from collectors.hackernews import HackerNewsCollector, HackerNewsConfig
from collectors.reddit import RedditCollector, RedditConfig
from collectors.rss import RssCollector, RssConfig
from collectors.stackexchange import StackExchangeCollector, StackExchangeConfig

AnySourceConfig = Annotated[
    RssConfig | FileConfig | RedditConfig | HackerNewsConfig | StackExchangeConfig | DiscourseConfig,
    Field(discriminator="type"),
]


def build_collector(config: AnySourceConfig, base_dir: Path) -> Collector:
    """Make the collector a config block describes; relative paths resolve against base_dir."""
    if isinstance(config, FileConfig):
        return FileCollector(config, base_dir=base_dir)
    if isinstance(config, RedditConfig):
        return RedditCollector(config)
    if isinstance(config, HackerNewsConfig):
        return HackerNewsCollector(config)
    if isinstance(config, StackExchangeConfig):
        return StackExchangeCollector(config)
    if isinstance(config, DiscourseConfig):
        return DiscourseCollector(config)
    return RssCollector(config)
