"""Mastodon: POST /api/v1/statuses with `in_reply_to_id`, on the instance the source reads, with its token.

The token (`token_env`, MASTODON_TOKEN by default) needs the `write:statuses` scope. The reply's id
goes as the Idempotency-Key, so the instance itself refuses to post the same reply twice. A reply is as
visible as the post it answers, never more: a direct message is answered directly.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

from collectors.http import safe_link
from collectors.mastodon import MastodonConfig
from core.documents import Mention, Reply
from replies.base import PlatformHttp, Posted, ReplyError, first_text, secret, unset

URL_LENGTH = 23
"""Mastodon counts every link as 23 characters, whatever its length."""
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
_REMOTE_MENTION = re.compile(r"(@[A-Za-z0-9_]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
VISIBILITIES = ("public", "unlisted", "private", "direct")


class MastodonReplier:
    platform: ClassVar[str] = "Mastodon"
    max_length: ClassVar[int] = 500

    def __init__(self, config: MastodonConfig) -> None:
        self.config = config
        self.base = str(config.instance).rstrip("/")
        self.http = PlatformHttp(config, explain=_explain)

    def missing_credentials(self) -> list[str]:
        return unset(self.config.token_env)

    def prefill(self, mention: Mention) -> str:
        return f"@{mention.author.handle} " if mention.author.handle else ""

    def length(self, text: str) -> int:
        """As the instance counts: a link is 23 characters, `@name@instance` counts as `@name`."""
        text = _LINK.sub("x" * URL_LENGTH, text)
        return len(_REMOTE_MENTION.sub(r"\1", text))

    def send(self, mention: Mention, reply: Reply) -> Posted:
        url = f"{self.base}/api/v1/statuses"
        token = {"Authorization": f"Bearer {secret(self.config.token_env)}"}
        answer = self.http.call(
            "POST",
            url,
            json={
                "status": reply.text,
                "in_reply_to_id": mention.native_id,
                "visibility": self._visibility(mention, token),
            },
            headers={**token, "Idempotency-Key": reply.id},
        )
        status_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(status_id, str | int) or not str(status_id):
            raise ReplyError(self.config.name, f"{url}: no status id in the answer", unsure=True)
        return Posted(str(status_id), safe_link(answer.get("url")) or safe_link(answer.get("uri")))

    def _visibility(self, mention: Mention, token: dict[str, str]) -> str:
        """The post's visibility as collected, or as the instance says when the mention no longer holds it
        (a pseudonymised author's post keeps no payload)."""
        visibility = mention.raw.get("visibility")
        if visibility not in VISIBILITIES:
            url = f"{self.base}/api/v1/statuses/{quote(mention.native_id, safe='')}"
            status = self.http.call("GET", url, headers=token, posting=False)
            visibility = status.get("visibility") if isinstance(status, dict) else None
            if visibility not in VISIBILITIES:
                raise ReplyError(self.config.name, f"{url}: the post's visibility is unknown: not answered")
        return visibility


def _explain(body: Any) -> str | None:
    return first_text(body.get("error")) if isinstance(body, dict) else None
