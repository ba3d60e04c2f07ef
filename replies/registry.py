"""Source type -> replier. Platforms that take replies: one module each, one entry here."""

from __future__ import annotations

from collectors.bluesky import BlueskyConfig
from collectors.discourse import DiscourseConfig
from collectors.mastodon import MastodonConfig
from collectors.reddit import RedditConfig
from collectors.registry import AnySourceConfig
from collectors.youtube import YoutubeConfig
from replies.base import Replier
from replies.bluesky import BlueskyReplier
from replies.discourse import DiscourseReplier
from replies.mastodon import MastodonReplier
from replies.reddit import RedditReplier
from replies.youtube import YoutubeReplier

_BY_CONFIG: dict[type, type] = {
    MastodonConfig: MastodonReplier,
    BlueskyConfig: BlueskyReplier,
    DiscourseConfig: DiscourseReplier,
    RedditConfig: RedditReplier,
    YoutubeConfig: YoutubeReplier,
}


def replier_for(config: AnySourceConfig) -> Replier | None:
    """The replier of a source, or None where its platform takes no reply (feeds, stores, files...)."""
    kind = _BY_CONFIG.get(type(config))
    return kind(config) if kind else None
