"""Reddit: POST /api/comment with the fullname of the post or comment answered (`thing_id`).

Posting needs a user, not the application-only token the collector reads with: a script app's
password grant with REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET and REDDIT_USERNAME / REDDIT_PASSWORD.
"""

from __future__ import annotations

from typing import Any, ClassVar

from collectors.http import safe_link
from collectors.reddit import RedditConfig
from core.documents import Mention, Reply
from replies.base import PlatformHttp, Posted, ReplyError, first_text, secret, unset


class RedditReplier:
    platform: ClassVar[str] = "Reddit"
    max_length: ClassVar[int] = 10_000

    def __init__(self, config: RedditConfig) -> None:
        self.config = config
        self.http = PlatformHttp(config, explain=_explain)

    def missing_credentials(self) -> list[str]:
        c = self.config
        return unset(c.client_id_env, c.client_secret_env, c.username_env, c.password_env)

    def prefill(self, mention: Mention) -> str:
        return ""

    def length(self, text: str) -> int:
        return len(text)

    def send(self, mention: Mention, reply: Reply) -> Posted:
        if not mention.native_id.startswith(("t1_", "t3_")):
            raise ReplyError(self.config.name, f"{mention.native_id!r} is not a post or comment fullname")
        agent = {"User-Agent": self.config.user_agent}
        c = self.config
        grant = self.http.call(
            "POST",
            str(c.token_url),
            data={
                "grant_type": "password",
                "username": secret(c.username_env),
                "password": secret(c.password_env),
            },
            auth=(secret(c.client_id_env), secret(c.client_secret_env)),
            headers=agent,
            posting=False,
        )
        token = grant.get("access_token") if isinstance(grant, dict) else None
        if not isinstance(token, str) or not token:
            said = grant.get("error") if isinstance(grant, dict) else None
            raise ReplyError(
                c.name, f"{c.token_url}: no access token ({said or 'refused'}); check {c.username_env}"
            )
        url = f"{str(c.oauth_base_url).rstrip('/')}/api/comment"
        answer = self.http.call(
            "POST",
            url,
            data={"api_type": "json", "thing_id": mention.native_id, "text": reply.text},
            headers={**agent, "Authorization": f"bearer {token}"},
        )
        body = answer.get("json") if isinstance(answer, dict) and isinstance(answer.get("json"), dict) else {}
        problems = _explain(answer)
        if problems:
            raise ReplyError(c.name, f"{url}: {problems}")
        things = (body.get("data") or {}).get("things") if isinstance(body.get("data"), dict) else None
        comment = things[0].get("data") if things and isinstance(things[0], dict) else None
        if not isinstance(comment, dict) or not isinstance(comment.get("name"), str):
            raise ReplyError(c.name, f"{url}: no comment in the answer", unsure=True)
        permalink = comment.get("permalink")
        link = (
            f"https://www.reddit.com{permalink}"
            if isinstance(permalink, str) and permalink.startswith("/")
            else None
        )
        return Posted(comment["name"], safe_link(link))


def _explain(body: Any) -> str | None:
    """Reddit's errors: `{"json": {"errors": [["RATELIMIT", "you are doing that too much", "..."]]}}`."""
    if not isinstance(body, dict):
        return None
    inner = body.get("json") if isinstance(body.get("json"), dict) else {}
    errors = inner.get("errors")
    if isinstance(errors, list) and errors:
        return first_text("; ".join(" ".join(str(p) for p in e[:2]) for e in errors if isinstance(e, list)))
    return first_text(body.get("message"), body.get("error") if isinstance(body.get("error"), str) else None)
