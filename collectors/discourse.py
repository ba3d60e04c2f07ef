"""Any Discourse forum through its JSON API: topics found by search or by latest activity, and their posts.

A post's native id is `<topic id>/<post number>`, the address Discourse itself links to, so a
reply's parent (`reply_to_post_number`, or the opening post when it answers the topic) and its
root (the topic's opening post, `<topic id>/1`) are native ids without further requests.

Each stream (a search query, or `latest`) keeps two marks: the newest post id read (post ids grow
across the whole forum) and how far its list of topics was read. At most `max_topics` topics are
read per stream and run, oldest activity first; when some are left, the post mark stays put so the
next run reads their posts too (a re-read post has the same id: it is not indexed twice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from dateutil.parser import isoparse
from pydantic import Field, HttpUrl, model_validator

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, parse_json, safe_link
from core.documents import RawPost

REGULAR_POST, SMALL_ACTION = 1, 3  # post_type: a small action is "closed the topic" and the like
LIKE_ACTION = 2
POSTS_PER_REQUEST = 20


class DiscourseConfig(HttpSourceConfig):
    type: Literal["discourse"] = "discourse"
    base_url: HttpUrl = Field(description="the forum's address, e.g. https://community.example.org")
    queries: list[str] = Field(default_factory=list, description="searched newest first (order:latest)")
    latest: bool = Field(default=False, description="also follow every topic with new activity")
    max_topics: int = Field(default=20, ge=1, description="topics read per stream and run at most")
    api_key_env: str = "DISCOURSE_API_KEY"
    api_username_env: str = "DISCOURSE_API_USERNAME"
    platform: str = "forum"

    @model_validator(mode="after")
    def _reads_something(self) -> DiscourseConfig:
        if not (self.queries or self.latest):
            raise ValueError("a discourse source needs `queries` or `latest: true`")
        return self


@dataclass
class _Candidate:
    """A topic with activity after a stream's mark; `mark` orders them (post id or time)."""

    topic_id: int
    mark: float
    title: str | None = None


@dataclass
class _Stream:
    key: str
    candidates: dict[int, _Candidate] = field(default_factory=dict)


class DiscourseCollector:
    """Lists topics with new activity per stream, then reads their new posts from `/t/{id}.json`."""

    type: ClassVar[str] = "discourse"

    def __init__(self, config: DiscourseConfig) -> None:
        self.config = config
        self.root = str(config.base_url).rstrip("/")
        self.http = SourceHttp(config)
        self._topics: dict[tuple[int, int], tuple[dict[str, Any], list[dict[str, Any]]]] = {}

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """New posts of every stream; `since` reads topics active since then, posts created since then."""
        result = FetchResult(cursor=dict(cursor))
        self._topics = {}
        emitted: set[str] = set()
        streams: list[tuple[str, Any]] = [(f"search:{q}", q) for q in self.config.queries]
        if self.config.latest:
            streams.append(("latest", None))
        for key, query in streams:
            post_mark = 0 if since else int(cursor.get(f"{key}|post") or 0)
            seen_mark = float(cursor.get(f"{key}|seen") or 0) if not since else 0.0
            if query is None:
                floor = since.timestamp() if since else seen_mark
                candidates = self._latest_topics(key, floor, result)
            else:
                candidates = self._searched_topics(key, query, max(post_mark, int(seen_mark)), since, result)
            ordered = sorted(candidates.values(), key=lambda c: c.mark)
            newest_post, last_read, left = post_mark, None, ordered[self.config.max_topics :]
            for position, candidate in enumerate(ordered[: self.config.max_topics]):
                try:
                    newest = self._read_topic(candidate, post_mark, since, emitted, result)
                except CollectorError as exc:
                    result.problems.append(
                        f"{self.config.name}: topic {candidate.topic_id}: not read ({exc.reason})"
                    )
                    if not exc.reason.startswith("HTTP 4"):
                        # not a deleted or private topic: try it again next run, and those after it
                        left = ordered[position:]
                        break
                    newest = 0
                newest_post, last_read = max(newest_post, newest), candidate.mark
            if last_read is not None:
                result.cursor[f"{key}|seen"] = repr(last_read) if query is None else str(int(last_read))
            if left:
                result.problems.append(
                    f"{self.config.name}: {key}: {len(left)} topics with new posts left for the next run"
                )
            elif newest_post:
                result.cursor[f"{key}|post"] = str(newest_post)
        return result

    def _searched_topics(
        self, key: str, query: str, mark: int, since: datetime | None, result: FetchResult
    ) -> dict[int, _Candidate]:
        """Topics with a post matching `query` newer than `mark` (a post id), from search pages."""
        candidates: dict[int, _Candidate] = {}
        for page in range(1, self.config.max_pages + 1):
            answer = self._get("/search.json", {"q": f"{query} order:latest", "page": str(page)})
            if not isinstance(answer, dict) or not isinstance(answer.get("posts", []), list):
                raise CollectorError(self.config.name, f"{self.root}/search.json", "not a search answer")
            titles = {
                t.get("id"): plain_text(t.get("title"))
                for t in answer.get("topics") or []
                if isinstance(t, dict)
            }
            reached_known = False
            for position, hit in enumerate(answer.get("posts") or [], start=1):
                post_id = hit.get("id") if isinstance(hit, dict) else None
                topic_id = hit.get("topic_id") if isinstance(hit, dict) else None
                if not isinstance(post_id, int) or not isinstance(topic_id, int):
                    result.problems.append(
                        f"{self.config.name}: {key}: page {page} hit {position}: no post id"
                    )
                    continue
                created = _when(hit.get("created_at"))
                too_old = since is not None and created is not None and created < since
                if post_id <= mark or too_old:
                    reached_known = True
                    continue
                known = candidates.get(topic_id)
                if known is None or post_id > known.mark:
                    candidates[topic_id] = _Candidate(topic_id, post_id, titles.get(topic_id))
            more = (answer.get("grouped_search_result") or {}).get("more_full_page_results")
            if reached_known or not more:
                break
        return candidates

    def _latest_topics(self, key: str, floor: float, result: FetchResult) -> dict[int, _Candidate]:
        """Topics whose last post is after `floor` (a timestamp), from /latest.json pages."""
        candidates: dict[int, _Candidate] = {}
        for page in range(self.config.max_pages):
            answer = self._get("/latest.json", {"order": "activity", "page": str(page)})
            topic_list = answer.get("topic_list") if isinstance(answer, dict) else None
            if not isinstance(topic_list, dict) or not isinstance(topic_list.get("topics"), list):
                raise CollectorError(self.config.name, f"{self.root}/latest.json", "not a topic list")
            reached_known = False
            for position, topic in enumerate(topic_list["topics"], start=1):
                topic_id = topic.get("id") if isinstance(topic, dict) else None
                when = _when(topic.get("last_posted_at") or topic.get("created_at")) if topic_id else None
                if not isinstance(topic_id, int) or when is None:
                    result.problems.append(
                        f"{self.config.name}: {key}: page {page} topic {position}: no id or date"
                    )
                    continue
                if when.timestamp() <= floor:
                    # pinned topics stay on top whatever their age: only an unpinned one ends the list
                    reached_known = reached_known or not topic.get("pinned")
                    continue
                candidates[topic_id] = _Candidate(topic_id, when.timestamp(), plain_text(topic.get("title")))
            if reached_known or not topic_list.get("more_topics_url"):
                break
        return candidates

    def _read_topic(
        self,
        candidate: _Candidate,
        post_mark: int,
        since: datetime | None,
        emitted: set[str],
        result: FetchResult,
    ) -> int:
        """Append the topic's posts newer than `post_mark`; returns the newest post id read.

        A topic that cannot be read raises CollectorError: the caller decides whether to go on.
        """
        topic, posts = self._topic(candidate.topic_id, post_mark, result)
        title = plain_text(topic.get("title")) or candidate.title
        newest = 0
        for post in posts:
            post_id, number = post.get("id"), post.get("post_number")
            where = f"{self.config.name}: topic {candidate.topic_id} post {number or post_id or '?'}"
            if not isinstance(post_id, int) or not isinstance(number, int):
                result.problems.append(f"{where}: no id or post number")
                continue
            if post_id <= post_mark:
                continue
            newest = max(newest, post_id)
            native_id = f"{candidate.topic_id}/{number}"
            if native_id in emitted or post.get("post_type") == SMALL_ACTION:
                continue
            emitted.add(native_id)
            if post.get("deleted_at") or post.get("user_deleted"):
                result.deletions.append(native_id)
                continue
            try:
                raw_post = self._post(post, topic, candidate.topic_id, native_id, title)
            except ValueError as exc:
                result.problems.append(f"{where}: {exc}")
                continue
            if since is not None and raw_post.created_at < since:
                continue
            if mentions_keyword(raw_post, self.config.keywords, thread_title=title):
                result.posts.append(raw_post)
        return newest

    def _topic(
        self, topic_id: int, post_mark: int, result: FetchResult
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The topic and its posts newer than `post_mark` (the first ones come with the topic)."""
        if (topic_id, post_mark) in self._topics:
            return self._topics[(topic_id, post_mark)]
        topic = self._get(f"/t/{topic_id}.json", {})
        stream = topic.get("post_stream") if isinstance(topic, dict) else None
        if not isinstance(stream, dict) or not isinstance(stream.get("posts"), list):
            raise CollectorError(self.config.name, f"{self.root}/t/{topic_id}.json", "not a topic")
        posts = [p for p in stream["posts"] if isinstance(p, dict)]
        loaded = {p.get("id") for p in posts}
        missing = [
            i for i in stream.get("stream") or [] if isinstance(i, int) and i > post_mark and i not in loaded
        ]
        most = self.config.max_pages * POSTS_PER_REQUEST
        if len(missing) > most:
            result.problems.append(
                f"{self.config.name}: topic {topic_id}: {len(missing) - most} older posts not read "
                f"(max_pages {self.config.max_pages} x {POSTS_PER_REQUEST} posts)"
            )
            missing = missing[-most:]
        for start in range(0, len(missing), POSTS_PER_REQUEST):
            chunk = missing[start : start + POSTS_PER_REQUEST]
            more = self._get(f"/t/{topic_id}/posts.json", {"post_ids[]": [str(i) for i in chunk]})
            more_posts = (more.get("post_stream") or {}).get("posts") if isinstance(more, dict) else None
            if not isinstance(more_posts, list):
                raise CollectorError(
                    self.config.name, f"{self.root}/t/{topic_id}/posts.json", "not a post list"
                )
            posts += [p for p in more_posts if isinstance(p, dict)]
        self._topics[(topic_id, post_mark)] = (topic, posts)
        return topic, posts

    def _post(
        self, post: dict[str, Any], topic: dict[str, Any], topic_id: int, native_id: str, title: str | None
    ) -> RawPost:
        text = plain_text(post.get("cooked"))
        if not text:
            raise ValueError("no text")
        created = _when(post.get("created_at"))
        if created is None:
            raise ValueError("no created_at")
        number = post["post_number"]
        reply_to = post.get("reply_to_post_number")
        thread = {}
        if number > 1:
            parent = reply_to if isinstance(reply_to, int) and reply_to > 0 else 1
            thread = {"parent_id": f"{topic_id}/{parent}", "root_id": f"{topic_id}/1"}
        slug = post.get("topic_slug") or topic.get("slug") or "topic"
        user_id = post.get("user_id")
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=native_id,
            url=safe_link(f"{self.root}/t/{slug}/{topic_id}/{number}"),
            author={
                "id": str(user_id) if user_id is not None else None,
                "handle": post.get("username"),
                "display_name": post.get("name") or None,
            },
            title=title if number == 1 else None,
            text=text,
            created_at=created,
            thread=thread,
            engagement={"likes": _likes(post), "replies": _count(post.get("reply_count"))},
            raw={**post, "topic_title": title},
        )

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        key = os.environ.get(self.config.api_key_env)
        headers = {}
        if key:
            headers = {
                "Api-Key": key,
                "Api-Username": os.environ.get(self.config.api_username_env) or "system",
            }
        url = f"{self.root}{path}"
        response = self.http.get(url, params=params, headers=headers)
        if response.status_code in (401, 403) and not key:
            raise CollectorError(
                self.config.name,
                url,
                f"HTTP {response.status_code}: the forum wants an API key ({self.config.api_key_env})",
            )
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        return parse_json(self.config.name, url, response.content)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = isoparse(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _likes(post: dict[str, Any]) -> int:
    if isinstance(post.get("like_count"), int):
        return _count(post["like_count"])
    for action in post.get("actions_summary") or []:
        if isinstance(action, dict) and action.get("id") == LIKE_ACTION:
            return _count(action.get("count"))
    return 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
