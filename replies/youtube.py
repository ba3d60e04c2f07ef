"""YouTube: comments.insert with the top-level comment of the thread as `parentId` (YouTube threads are
one level deep: a reply to a reply answers the thread).

The API key the collector reads with cannot post: an OAuth access token of the channel answering, with
the youtube.force-ssl scope, in YOUTUBE_OAUTH_TOKEN (`oauth_token_env`).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from collectors.http import safe_link
from collectors.youtube import YoutubeConfig
from core.documents import Mention, Reply
from replies.base import PlatformHttp, Posted, ReplyError, first_text, secret, unset


class YoutubeReplier:
    platform: ClassVar[str] = "YouTube"
    max_length: ClassVar[int] = 10_000

    def __init__(self, config: YoutubeConfig) -> None:
        self.config = config
        self.base = str(config.base_url).rstrip("/")
        self.http = PlatformHttp(config, explain=_explain)

    def missing_credentials(self) -> list[str]:
        return unset(self.config.oauth_token_env)

    def prefill(self, mention: Mention) -> str:
        return ""

    def length(self, text: str) -> int:
        return len(text)

    def send(self, mention: Mention, reply: Reply) -> Posted:
        url = f"{self.base}/comments"
        answer = self.http.call(
            "POST",
            url,
            params={"part": "snippet"},
            json={
                "snippet": {
                    "parentId": mention.thread.parent_id or mention.native_id,
                    "textOriginal": reply.text,
                }
            },
            headers={"Authorization": f"Bearer {secret(self.config.oauth_token_env)}"},
        )
        comment_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(comment_id, str) or not comment_id:
            raise ReplyError(self.config.name, f"{url}: no comment id in the answer", unsure=True)
        video = mention.raw.get("videoId")
        link = (
            f"https://www.youtube.com/watch?v={quote(video)}&lc={quote(comment_id)}"
            if isinstance(video, str)
            else None
        )
        return Posted(comment_id, safe_link(link))


def _explain(body: Any) -> str | None:
    """Google's errors: `{"error": {"code": 403, "message": "...", "errors": [{"reason": "..."}]}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = next((r for r in reasons if isinstance(r, str)), None)
    return first_text(f"{reason}: {error.get('message')}" if reason else error.get("message"))
