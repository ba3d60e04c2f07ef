"""RSS/Atom feeds (news, blogs, review feeds) with conditional GET."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

import feedparser
import httpx
from bs4 import BeautifulSoup
from pydantic import Field, HttpUrl
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from collectors.base import (
    CollectorError,
    Cursor,
    FetchResult,
    RawPost,
    SourceConfig,
    mentions_keyword,
)

USER_AGENT = "Ecoute/0.1 (social listening; RSS reader)"


class RssConfig(SourceConfig):
    type: Literal["rss"] = "rss"
    url: HttpUrl
    platform: str = "news"
    timeout_seconds: float = Field(default=20.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=10)
    max_wait_seconds: float = Field(default=60.0, gt=0)


class RetryableHttpError(Exception):
    """A 429 or 5xx answer: worth another try after `retry_after` seconds if given."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.retry_after = status, retry_after


class RssCollector:
    type: ClassVar[str] = "rss"

    def __init__(self, config: RssConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(
            timeout=config.timeout_seconds,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            verify=True,
        )

    def fetch(self, cursor: Cursor) -> FetchResult:
        url = str(self.config.url)
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("modified"):
            headers["If-Modified-Since"] = cursor["modified"]
        response = self._get(url, headers)
        if response.status_code == 304:
            return FetchResult(cursor=dict(cursor))
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        next_cursor = {
            k: v
            for k, v in (
                ("etag", response.headers.get("ETag")),
                ("modified", response.headers.get("Last-Modified")),
            )
            if v
        }
        feed = feedparser.parse(response.content)
        if feed.bozo and not feed.entries:
            reason = getattr(feed.get("bozo_exception"), "getMessage", lambda: None)() or str(
                feed.get("bozo_exception", "unreadable")
            )
            raise CollectorError(self.config.name, url, f"not an RSS/Atom feed ({reason})")
        result = FetchResult(cursor=next_cursor)
        for position, entry in enumerate(feed.entries, start=1):
            try:
                post = self._to_post(entry, feed)
            except ValueError as exc:
                result.problems.append(f"{self.config.name}: {url}: item {position}: {exc}")
                continue
            if mentions_keyword(post, self.config.keywords):
                result.posts.append(post)
        return result

    def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        retrying = Retrying(
            stop=stop_after_attempt(self.config.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((RetryableHttpError, httpx.TransportError)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self.client.get(url, headers=headers)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise RetryableHttpError(
                            response.status_code, _retry_after(response.headers.get("Retry-After"))
                        )
                    return response
        except RetryableHttpError as exc:
            raise CollectorError(
                self.config.name, url, f"{exc} after {self.config.attempts} attempts"
            ) from exc
        except httpx.TransportError as exc:
            raise CollectorError(self.config.name, url, f"network error ({exc})") from exc
        raise AssertionError("unreachable")

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=0.5, max=self.config.max_wait_seconds)(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableHttpError) and exc.retry_after is not None:
            return min(max(exc.retry_after, backoff), self.config.max_wait_seconds)
        return backoff

    def _to_post(self, entry: Any, feed: Any) -> RawPost:
        native_id = entry.get("id") or entry.get("link")
        if not native_id:
            raise ValueError("no id and no link")
        title = _text(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = _text(entry.content[0].get("value"))
        body = body or _text(entry.get("summary"))
        if not (title or body):
            raise ValueError(f"{native_id}: no title and no text")
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        created = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else datetime.now(UTC)
        author_name = entry.get("author") or feed.feed.get("title")
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=str(native_id),
            url=entry.get("link"),
            author={"display_name": author_name, "handle": None},
            title=title or None,
            text=body or title,
            language_hint=(entry.get("language") or feed.feed.get("language") or "")[:2] or None,
            created_at=created,
            raw={k: entry.get(k) for k in ("id", "link", "title", "summary", "published", "author")},
        )


def _text(html: str | None) -> str:
    """Feed fields are HTML: keep only the visible text."""
    if not html:
        return ""
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
