"""Discourse: POST /posts.json with the topic and the post number answered, as the API user.

Both `api_key_env` and `api_username_env` are needed: the key alone would post as `system`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from collectors.discourse import DiscourseConfig
from collectors.http import safe_link
from core.documents import Mention, Reply
from replies.base import PlatformHttp, Posted, ReplyError, first_text, secret, unset

NATIVE_ID = re.compile(r"^(?P<topic>\d+)/(?P<number>\d+)$")


class DiscourseReplier:
    platform: ClassVar[str] = "Discourse"
    max_length: ClassVar[int] = 32_000
    """The forum's default max_post_length; a forum may set another (its answer then says so)."""

    def __init__(self, config: DiscourseConfig) -> None:
        self.config = config
        self.root = str(config.base_url).rstrip("/")
        self.http = PlatformHttp(config, explain=_explain)

    def missing_credentials(self) -> list[str]:
        return unset(self.config.api_key_env, self.config.api_username_env)

    def prefill(self, mention: Mention) -> str:
        return ""

    def length(self, text: str) -> int:
        return len(text)

    def send(self, mention: Mention, reply: Reply) -> Posted:
        where = NATIVE_ID.match(mention.native_id)
        if where is None:
            raise ReplyError(self.config.name, f"{mention.native_id!r} is not a topic/post number")
        url = f"{self.root}/posts.json"
        answer = self.http.call(
            "POST",
            url,
            json={
                "topic_id": int(where["topic"]),
                "reply_to_post_number": int(where["number"]),
                "raw": reply.text,
            },
            headers={
                "Api-Key": secret(self.config.api_key_env),
                "Api-Username": secret(self.config.api_username_env),
            },
        )
        post_id, number = answer.get("id"), answer.get("post_number")
        if not isinstance(post_id, int) or not isinstance(number, int):
            raise ReplyError(self.config.name, f"{url}: no post id in the answer", unsure=True)
        slug = answer.get("topic_slug") if isinstance(answer.get("topic_slug"), str) else "topic"
        topic = answer.get("topic_id") if isinstance(answer.get("topic_id"), int) else where["topic"]
        return Posted(f"{topic}/{number}", safe_link(f"{self.root}/t/{slug}/{topic}/{number}"))


def _explain(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list):
        return first_text("; ".join(e for e in errors if isinstance(e, str)))
    return first_text(body.get("error"))
