"""Source type -> collector class. Adding a source: one module, one entry here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from collectors.appstore import AppStoreCollector, AppStoreConfig
from collectors.base import Collector
from collectors.bluesky import BlueskyCollector, BlueskyConfig
from collectors.files import FileCollector, FileConfig
from collectors.googleplay import GooglePlayCollector, GooglePlayConfig
from collectors.hackernews import HackerNewsCollector, HackerNewsConfig
from collectors.mastodon import MastodonCollector, MastodonConfig
from collectors.reddit import RedditCollector, RedditConfig
from collectors.reviewpage import ReviewPageCollector, ReviewPageConfig
from collectors.rss import RssCollector, RssConfig
from collectors.stackexchange import StackExchangeCollector, StackExchangeConfig
from collectors.webhook import WebhookCollector, WebhookConfig
from collectors.youtube import YoutubeCollector, YoutubeConfig

AnySourceConfig = Annotated[
    RssConfig
    | FileConfig
    | RedditConfig
    | HackerNewsConfig
    | StackExchangeConfig
    | YoutubeConfig
    | AppStoreConfig
    | GooglePlayConfig
    | ReviewPageConfig
    | WebhookConfig
    | MastodonConfig
    | BlueskyConfig,
    Field(discriminator="type"),
]

# Collectors built from their config block alone.
_BY_CONFIG: dict[type, type] = {
    RssConfig: RssCollector,
    RedditConfig: RedditCollector,
    HackerNewsConfig: HackerNewsCollector,
    StackExchangeConfig: StackExchangeCollector,
    YoutubeConfig: YoutubeCollector,
    AppStoreConfig: AppStoreCollector,
    GooglePlayConfig: GooglePlayCollector,
    ReviewPageConfig: ReviewPageCollector,
    MastodonConfig: MastodonCollector,
    BlueskyConfig: BlueskyCollector,
}


def build_collector(config: AnySourceConfig, base_dir: Path, state_dir: Path | None = None) -> Collector:
    """Make the collector a config block describes; relative paths resolve against base_dir.

    `state_dir` is settings.state_dir resolved (webhook spools live there); default base_dir/.state.
    """
    if isinstance(config, FileConfig):
        return FileCollector(config, base_dir=base_dir)
    if isinstance(config, WebhookConfig):
        return WebhookCollector(config, state_dir or base_dir / ".state")
    return _BY_CONFIG[type(config)](config)
