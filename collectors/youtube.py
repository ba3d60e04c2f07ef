"""YouTube comments through the YouTube Data API v3 (commentThreads.list and comments.list).

The API key is sent in the `X-Goog-Api-Key` header, never in a URL, and any URL put in a message has
its `key` parameter stripped as well. Each video or channel keeps the newest `publishedAt` it has
seen as its cursor; threads come newest first, so a run stops paging once it reaches older ones.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dateutil import parser as dateparser
from pydantic import Field, HttpUrl, model_validator

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, parse_json, safe_link
from core.documents import RawPost, as_utc

# A video whose comments are off, or that was removed, is one problem line; the run goes on.
TARGET_REASONS = {"commentsDisabled", "videoNotFound", "channelNotFound", "forbidden"}


class YoutubeConfig(HttpSourceConfig):
    type: Literal["youtube"] = "youtube"
    base_url: HttpUrl = HttpUrl("https://www.googleapis.com/youtube/v3")
    video_ids: list[str] = Field(default_factory=list, description="comments on these videos")
    channel_ids: list[str] = Field(
        default_factory=list, description="comments on every video of these channels"
    )
    search_terms: str | None = Field(default=None, description="only threads containing these words")
    max_results: int = Field(default=100, ge=1, le=100, description="threads per page")
    all_replies: bool = Field(
        default=True, description="read replies beyond the few embedded in a thread (comments.list)"
    )
    token_env: str = "YOUTUBE_API_KEY"
    oauth_token_env: str = Field(
        default="YOUTUBE_OAUTH_TOKEN",
        description="an OAuth access token with the youtube.force-ssl scope: replies are posted with it",
    )
    platform: str = "youtube"

    @model_validator(mode="after")
    def _has_target(self) -> YoutubeConfig:
        if not (self.video_ids or self.channel_ids):
            raise ValueError("set video_ids or channel_ids")
        return self


def without_key(url: str) -> str:
    """`url` with any `key` query parameter removed, fit for a message."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "key"]
    return urlunsplit(parts._replace(query=urlencode(query)))


class YoutubeCollector:
    """Top-level comments become root posts; replies carry the top-level comment as parent and root."""

    type: ClassVar[str] = "youtube"

    def __init__(self, config: YoutubeConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        self.base = str(config.base_url).rstrip("/")

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        key = os.environ.get(self.config.token_env)
        if not key:
            reason = f"no API key: set the {self.config.token_env} environment variable"
            raise CollectorError(self.config.name, "youtube", reason)
        headers = {"X-Goog-Api-Key": key, "Accept": "application/json"}
        result = FetchResult(cursor=dict(cursor))
        targets = [("video", v, "videoId") for v in self.config.video_ids] + [
            ("channel", c, "allThreadsRelatedToChannelId") for c in self.config.channel_ids
        ]
        for kind, target_id, param in targets:
            cursor_key = f"{kind}:{target_id}"
            floor = as_utc(since) if since else _parse_time(cursor.get(cursor_key))
            newest = self._read_target(param, target_id, floor, headers, result)
            if newest and (floor is None or newest > floor):
                result.cursor[cursor_key] = newest.isoformat()
        return result

    def _read_target(
        self, param: str, target_id: str, floor: datetime | None, headers: dict[str, str], result: FetchResult
    ) -> datetime | None:
        url = f"{self.base}/commentThreads"
        params: dict[str, Any] = {
            "part": "snippet,replies",
            param: target_id,
            "maxResults": self.config.max_results,
            "order": "time",
            "textFormat": "html",
        }
        if self.config.search_terms:
            params["searchTerms"] = self.config.search_terms
        newest: datetime | None = None
        for _page in range(self.config.max_pages):
            page = self._get(url, params, headers, result, target_id)
            if page is None:
                break
            items = page.get("items") or []
            reached_old = False
            for position, thread in enumerate(items, start=1):
                label = thread.get("id") if isinstance(thread, dict) else None
                where = f"{target_id} thread {label or position}"
                try:
                    top, replies = self._thread_posts(thread, headers, result)
                except ValueError as exc:
                    result.problems.append(f"{self.config.name}: {where}: {exc}")
                    continue
                for post in [top, *replies]:
                    when = as_utc(post.created_at)
                    newest = when if newest is None or when > newest else newest
                    if (floor is None or when > floor) and mentions_keyword(post, self.config.keywords):
                        result.posts.append(post)
                if floor is not None and as_utc(top.created_at) <= floor:
                    reached_old = True
            token = page.get("nextPageToken")
            if not token or reached_old:
                break
            params = {**params, "pageToken": token}
        return newest

    def _thread_posts(
        self, thread: Any, headers: dict[str, str], result: FetchResult
    ) -> tuple[RawPost, list[RawPost]]:
        if not isinstance(thread, dict):
            raise ValueError("thread is not an object")
        snippet = thread.get("snippet") or {}
        top_comment = snippet.get("topLevelComment")
        if not isinstance(top_comment, dict):
            raise ValueError("no topLevelComment")
        top = self._to_post(top_comment, parent_id=None, replies=int(snippet.get("totalReplyCount") or 0))
        embedded = (thread.get("replies") or {}).get("comments") or []
        total = int(snippet.get("totalReplyCount") or 0)
        if self.config.all_replies and total > len(embedded):
            embedded = self._all_replies(top.native_id, headers, result) or embedded
        replies = []
        for position, comment in enumerate(embedded, start=1):
            try:
                replies.append(self._to_post(comment, parent_id=top.native_id))
            except ValueError as exc:
                result.problems.append(f"{self.config.name}: {top.native_id} reply {position}: {exc}")
        return top, replies

    def _all_replies(self, parent_id: str, headers: dict[str, str], result: FetchResult) -> list[Any]:
        url = f"{self.base}/comments"
        params: dict[str, Any] = {"part": "snippet", "parentId": parent_id, "maxResults": 100}
        params["textFormat"] = "html"
        comments: list[Any] = []
        for _page in range(self.config.max_pages):
            page = self._get(url, params, headers, result, parent_id)
            if page is None:
                break
            comments += page.get("items") or []
            token = page.get("nextPageToken")
            if not token:
                break
            params = {**params, "pageToken": token}
        return comments

    def _get(
        self, url: str, params: dict[str, Any], headers: dict[str, str], result: FetchResult, target: str
    ) -> dict[str, Any] | None:
        """One API page; None (and a problem line) when only this target is unavailable."""
        where = without_key(url)
        response = self.http.get(url, params=params, headers=headers)
        body: Any = None
        if response.content:
            try:
                body = parse_json(self.config.name, where, response.content)
            except CollectorError:
                if response.status_code < 400:
                    raise
        if response.status_code >= 400:
            reason, message = _api_error(body)
            message = message.replace(headers["X-Goog-Api-Key"], "[api key]")
            if reason == "quotaExceeded":
                raise CollectorError(
                    self.config.name,
                    where,
                    "YouTube API daily quota exceeded (it resets at midnight Pacific time)",
                )
            if reason in TARGET_REASONS:
                result.problems.append(f"{self.config.name}: {target}: {reason}: {message}")
                return None
            detail = f": {reason}: {message}" if reason else ""
            raise CollectorError(self.config.name, where, f"HTTP {response.status_code}{detail}")
        if not isinstance(body, dict):
            raise CollectorError(self.config.name, where, "answer is not a JSON object")
        return body

    def _to_post(self, comment: Any, parent_id: str | None, replies: int = 0) -> RawPost:
        if not isinstance(comment, dict) or not comment.get("id"):
            raise ValueError("comment has no id")
        snippet = comment.get("snippet") or {}
        text = snippet.get("textOriginal") or plain_text(snippet.get("textDisplay"))
        if not text or not text.strip():
            raise ValueError(f"{comment['id']}: no text")
        created = _parse_time(snippet.get("publishedAt"))
        if created is None:
            raise ValueError(f"{comment['id']}: no readable publishedAt")
        video_id = snippet.get("videoId")
        url = f"https://www.youtube.com/watch?v={video_id}&lc={comment['id']}" if video_id else None
        channel = snippet.get("authorChannelId") or {}
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=str(comment["id"]),
            url=safe_link(url),
            author={
                "id": channel.get("value") if isinstance(channel, dict) else None,
                "handle": snippet.get("authorDisplayName"),
                "display_name": snippet.get("authorDisplayName"),
            },
            text=text.strip(),
            created_at=created,
            thread={"parent_id": parent_id, "root_id": parent_id},
            engagement={"likes": int(snippet.get("likeCount") or 0), "replies": replies},
            raw={
                "id": comment["id"],
                "videoId": video_id,
                "channelId": snippet.get("channelId"),
                "authorChannelUrl": safe_link(snippet.get("authorChannelUrl")),
                "publishedAt": snippet.get("publishedAt"),
                "updatedAt": snippet.get("updatedAt"),
                "textDisplay": snippet.get("textDisplay"),
            },
        )


def _api_error(body: Any) -> tuple[str | None, str]:
    """The first `reason` and the message of a Google API error body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    errors = error.get("errors") or []
    reason = errors[0].get("reason") if errors and isinstance(errors[0], dict) else None
    return reason, plain_text(str(error.get("message") or ""))[:200]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return as_utc(dateparser.isoparse(value))
    except (ValueError, OverflowError):
        return None
