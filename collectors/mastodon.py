"""Mastodon: hashtag timelines and status search over the REST API, and the live streaming API.

REST reads `/api/v1/timelines/tag/{tag}` (paged with max_id / min_id through Link headers) and
`/api/v2/search?type=statuses`; the cursor keeps the newest status id per hashtag and per query.
A first run reads back from the newest status; later runs walk forward from the stored id with
`min_id`, so a run bounded by max_pages leaves no gap. Boosts are read as the boosted status (one
post, whoever boosted it). The stream (`stream: true`) first catches up over REST from the cursor,
then follows `/api/v1/streaming/hashtag` (one hashtag) or `/api/v1/streaming/public` (filtered
here) as server-sent events: `update` carries a status, `delete` the id of a deleted one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import httpx
from dateutil.parser import isoparse
from pydantic import Field, HttpUrl, model_validator

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import SourceHttp, parse_json, safe_link
from collectors.streams import StreamEvent, StreamSourceConfig
from core.documents import Author, Engagement, RawPost, Thread, as_utc


class MastodonConfig(StreamSourceConfig):
    type: Literal["mastodon"] = "mastodon"
    instance: HttpUrl = HttpUrl("https://mastodon.social")
    streaming_url: HttpUrl | None = Field(
        default=None, description="streaming server if not the instance itself (see /api/v2/instance)"
    )
    hashtags: list[str] = Field(default_factory=list, description="without the #")
    search: list[str] = Field(default_factory=list, description="status search queries (needs a token)")
    token_env: str = "MASTODON_TOKEN"
    page_size: int = Field(default=40, ge=1, le=40)
    local_only: bool = Field(default=False, description="only statuses of this instance")
    public_timeline: bool = Field(
        default=False,
        description="read the instance's public timeline (its local one with local_only), kept by `keywords`",
    )
    replies: bool = Field(
        default=False, description="also read the replies to each status kept (its context)"
    )
    max_reply_threads: int = Field(default=20, ge=1, description="statuses whose replies are read per run")

    @model_validator(mode="after")
    def _something_to_read(self) -> MastodonConfig:
        if not (self.hashtags or self.search or self.public_timeline):
            raise ValueError("set hashtags, search or public_timeline")
        plain = [str(u) for u in (self.instance, self.streaming_url) if u is not None and u.scheme != "https"]
        if plain and not self.local:  # the access token would travel in clear
            raise ValueError(
                f"{plain[0]} is not https: the token is only sent over https "
                "(`local: true` for a test server)"
            )
        if self.public_timeline and not self.keywords:
            raise ValueError("public_timeline needs `keywords`: the whole timeline is not about you")
        self.hashtags = [t.lstrip("#") for t in self.hashtags]
        return self


PUBLIC_KEY = "public"


def newer_id(a: str | None, b: str | None) -> str | None:
    """The more recent of two status ids (Mastodon ids are numbers that grow with time)."""
    if not a or not b:
        return a or b
    if a.isdigit() and b.isdigit():
        return a if int(a) >= int(b) else b
    return max(a, b)


def is_newer(candidate: str, than: str | None) -> bool:
    return than is None or (candidate != than and newer_id(candidate, than) == candidate)


class MastodonCollector:
    type: ClassVar[str] = "mastodon"

    def __init__(self, config: MastodonConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        self.base = str(config.instance).rstrip("/")
        self._open: httpx.Response | None = None
        self._lock = threading.Lock()

    def _headers(self) -> dict[str, str]:
        token = os.environ.get(self.config.token_env)
        return {"Authorization": f"Bearer {token}"} if token else {}

    # --- REST ---------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """Statuses newer than the cursor for every hashtag and query; `since` backfills from a date."""
        result = FetchResult(cursor=dict(cursor))
        seen: set[str] = set()
        failures: list[CollectorError] = []
        for tag in self.config.hashtags:
            key = f"tag:{tag}"
            url = f"{self.base}/api/v1/timelines/tag/{quote(tag, safe='')}"
            params: dict[str, Any] = {"limit": self.config.page_size}
            if self.config.local_only:
                params["local"] = "true"
            after = cursor.get(key) if since is None else None
            self._keeping_progress(
                partial(self._read_timeline, url, params, key, after, since, result, seen),
                key,
                result,
                failures,
            )
        for query in self.config.search:
            key = f"search:{query}"
            after = cursor.get(key) if since is None else None
            read = partial(self._read_search, query, key, after, since, result, seen)
            if not self._keeping_progress(read, key, result, failures):
                # Search pages go newest first: what a failed page held may be older than what was read,
                # so the cursor stays put and the next run reads those statuses again (ids make it safe).
                _restore(result.cursor, key, cursor.get(key))
        if self.config.public_timeline:
            key = PUBLIC_KEY
            params = {"limit": self.config.page_size, **({"local": "true"} if self.config.local_only else {})}
            after = cursor.get(key) if since is None else None
            url = f"{self.base}/api/v1/timelines/public"
            read = partial(self._read_timeline, url, params, key, after, since, result, seen)
            self._keeping_progress(read, key, result, failures)
        if failures and not result.posts:
            raise failures[0]
        if self.config.replies:
            self._read_replies(result, seen)
        return result

    def _read_replies(self, result: FetchResult, seen: set[str]) -> None:
        """The replies under each status kept that has some (`/statuses/:id/context`), as posts of the
        same thread; a reply counts for `keywords` when its thread's first status does."""
        threads = [p for p in result.posts if p.engagement.replies and not p.thread.parent_id]
        for post in threads[: self.config.max_reply_threads]:
            url = f"{self.base}/api/v1/statuses/{quote(post.native_id, safe='')}/context"
            try:
                body = parse_json(self.config.name, url, self._checked(url).content)
            except CollectorError as exc:  # one unreadable thread loses its replies, not the statuses
                result.problems.append(f"{exc}: replies not read")
                continue
            descendants = body.get("descendants") if isinstance(body, dict) else None
            if not isinstance(descendants, list):
                result.problems.append(f"{self.config.name}: {url}: no `descendants` list: replies not read")
                continue
            for position, status in enumerate(descendants, start=1):
                try:
                    reply = self.to_post(status)
                except ValueError as exc:
                    result.problems.append(f"{self.config.name}: {url}: reply {position}: {exc}")
                    continue
                if reply.native_id in seen:
                    continue
                reply.thread.root_id = post.native_id
                if mentions_keyword(reply, self.config.keywords, thread_title=post.title or post.text):
                    seen.add(reply.native_id)
                    result.posts.append(reply)

    def _checked(self, url: str) -> httpx.Response:
        response = self.http.get(url, headers=self._headers())
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        return response

    def _keeping_progress(
        self, read: Callable[[], None], key: str, result: FetchResult, failures: list[CollectorError]
    ) -> bool:
        """Run one timeline or search; a page that fails keeps what the pages before it gave (the
        failure is one problem line). False when it failed."""
        before = len(result.posts)
        try:
            read()
        except CollectorError as exc:
            failures.append(exc)
            result.problems.append(
                f"{exc}; {len(result.posts) - before} statuses of {key} read before it are kept"
            )
            return False
        return True

    def _read_timeline(
        self,
        url: str,
        params: dict[str, Any],
        key: str,
        after: str | None,
        since: datetime | None,
        result: FetchResult,
        seen: set[str],
    ) -> None:
        # With a stored id, walk forward (min_id, then rel="prev" links); without, walk back (rel="next").
        direction = "prev" if after else "next"
        if after:
            params = {**params, "min_id": after}
        next_url: str | None = url
        page_params: dict[str, Any] | None = params
        for _ in range(self.config.max_pages):
            if next_url is None:
                break
            response = self.http.get(next_url, params=page_params, headers=self._headers())
            page_params = None  # the Link header URLs carry every parameter
            statuses = self._statuses(next_url, response)
            if not statuses:
                break
            reached_since = self._take(statuses, next_url, key, after, since, result, seen)
            link = response.links.get(direction, {}).get("url")
            next_url = self._same_host(link, result) if link else None
            if reached_since:
                break

    def _read_search(
        self,
        query: str,
        key: str,
        after: str | None,
        since: datetime | None,
        result: FetchResult,
        seen: set[str],
    ) -> None:
        url = f"{self.base}/api/v2/search"
        offset = 0
        for _ in range(self.config.max_pages):
            params: dict[str, Any] = {"q": query, "type": "statuses", "limit": self.config.page_size}
            if after:
                params["min_id"] = after
            if offset:
                params["offset"] = offset
            response = self.http.get(url, params=params, headers=self._headers())
            if response.status_code >= 400:
                raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
            body = parse_json(self.config.name, url, response.content)
            statuses = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(statuses, list):
                raise CollectorError(self.config.name, url, "no `statuses` list in the search answer")
            if not statuses:
                break
            if self._take(statuses, url, key, after, since, result, seen):
                break
            offset += len(statuses)

    def _statuses(self, url: str, response: httpx.Response) -> list[Any]:
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        body = parse_json(self.config.name, url, response.content)
        if not isinstance(body, list):
            raise CollectorError(self.config.name, url, "expected a list of statuses")
        return body

    def _take(
        self,
        statuses: list[Any],
        url: str,
        key: str,
        after: str | None,
        since: datetime | None,
        result: FetchResult,
        seen: set[str],
    ) -> bool:
        """Add a page's statuses to `result`; True once statuses older than `since` were reached."""
        reached_since = False
        for position, status in enumerate(statuses, start=1):
            try:
                post = self.to_post(status)
            except ValueError as exc:
                where = status.get("id") if isinstance(status, dict) and status.get("id") else position
                result.problems.append(f"{self.config.name}: {url}: status {where}: {exc}")
                continue
            # Page ids move the cursor even for boosts and statuses filtered out below.
            page_id = str(status["id"])
            result.cursor[key] = newer_id(result.cursor.get(key), page_id) or page_id
            if after and not is_newer(page_id, after):
                continue
            if since and post.created_at < since:
                reached_since = True
                continue
            if post.native_id in seen or not mentions_keyword(post, self.config.keywords):
                continue
            seen.add(post.native_id)
            result.posts.append(post)
        return reached_since

    def _same_host(self, link: str, result: FetchResult) -> str | None:
        """`link` when it is on the instance itself (scheme, host and port): the token goes only there."""
        if _origin(link) != _origin(self.base):
            result.problems.append(f"{self.config.name}: next page {link} is on another origin: not followed")
            return None
        return link

    def to_post(self, status: Any) -> RawPost:
        """A Mastodon status (or, for a boost, the boosted status) as a RawPost."""
        if not isinstance(status, dict) or not status.get("id"):
            raise ValueError("no id")
        original = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        if not original.get("id"):
            raise ValueError("boost of a status without id")
        text = plain_text(original.get("content"))
        if not text:
            raise ValueError("no text")
        try:
            created = as_utc(isoparse(str(original.get("created_at"))))
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"created_at {original.get('created_at')!r} is not a date") from exc
        account = original.get("account") if isinstance(original.get("account"), dict) else {}
        return RawPost(
            source=self.config.name,
            platform="mastodon",
            native_id=str(original["id"]),
            url=safe_link(original.get("url")) or safe_link(original.get("uri")),
            author=Author(
                id=_text(account.get("id")),
                handle=_text(account.get("acct")),
                display_name=_text(account.get("display_name")) or None,
                followers=_count(account.get("followers_count")),
                created_at=_date(account.get("created_at")),
            ),
            title=plain_text(original.get("spoiler_text")) or None,
            text=text,
            language_hint=_text(original.get("language")),
            created_at=created,
            thread=Thread(parent_id=_text(original.get("in_reply_to_id"))),
            hashtags=sorted(self._tags(status)),
            engagement=Engagement(
                likes=_count(original.get("favourites_count")) or 0,
                replies=_count(original.get("replies_count")) or 0,
                shares=_count(original.get("reblogs_count")) or 0,
            ),
            raw=original,
        )

    # --- streaming ----------------------------------------------------------------------------

    def stream(self, cursor: Cursor) -> Iterator[StreamEvent]:
        """Catch up over REST from `cursor`, then follow the streaming API until it drops."""
        position = dict(cursor)
        caught_up = self.fetch(position)
        for problem in caught_up.problems:
            yield StreamEvent(cursor=dict(position), problem=problem)
        for post in caught_up.posts:
            yield StreamEvent(cursor=dict(position), post=post)
        position = caught_up.cursor
        yield StreamEvent(cursor=dict(position))
        url, params = self._stream_address()
        timeout = httpx.Timeout(self.config.timeout_seconds, read=self.config.idle_timeout_seconds)
        try:
            request = self.http.client.build_request(
                "GET",
                url,
                params=params,
                headers={**self._headers(), "Accept": "text/event-stream"},
                timeout=timeout,
            )
            response = self.http.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise CollectorError(self.config.name, url, f"cannot open the stream ({exc})") from exc
        with self._lock:
            self._open = response
        try:
            if response.status_code != 200:
                raise CollectorError(self.config.name, url, f"stream refused: HTTP {response.status_code}")
            for name, data in self._server_sent_events(response, url):
                if name is None:
                    yield StreamEvent(cursor=dict(position))
                elif name == "update":
                    yield self._update(data, url, position)
                elif name == "delete" and data.strip():
                    yield StreamEvent(cursor=dict(position), deletion=data.strip())
                else:  # status.update, notification...: of no interest here
                    yield StreamEvent(cursor=dict(position))
        finally:
            with self._lock:
                self._open = None
            response.close()

    def _stream_address(self) -> tuple[str, dict[str, str]]:
        base = str(self.config.streaming_url or self.config.instance).rstrip("/")
        if len(self.config.hashtags) == 1 and not (self.config.search or self.config.public_timeline):
            kind = "hashtag/local" if self.config.local_only else "hashtag"
            return f"{base}/api/v1/streaming/{kind}", {"tag": self.config.hashtags[0]}
        return f"{base}/api/v1/streaming/{'public/local' if self.config.local_only else 'public'}", {}

    def _server_sent_events(self, response: httpx.Response, url: str) -> Iterator[tuple[str | None, str]]:
        """(event name, data) per event; (None, "") for each heartbeat comment."""
        name: str | None = None
        data: list[str] = []
        try:
            for line in self._lines(response, url):
                if line.startswith(":"):
                    yield None, ""
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line == "":
                    if name or data:
                        yield name or "message", "\n".join(data)
                    name, data = None, []
        except httpx.ReadTimeout as exc:
            raise CollectorError(
                self.config.name, url, f"stream silent for {self.config.idle_timeout_seconds:g}s"
            ) from exc
        except (httpx.HTTPError, httpx.StreamError) as exc:
            raise CollectorError(self.config.name, url, f"stream broke ({exc})") from exc
        raise CollectorError(self.config.name, url, "stream closed by the server")

    def _lines(self, response: httpx.Response, url: str) -> Iterator[str]:
        """The stream's lines, none longer than max_body_bytes (a line that never ends is refused)."""
        pending = b""
        for chunk in response.iter_bytes():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.removesuffix(b"\r").decode("utf-8", errors="replace")
            if len(pending) > self.config.max_body_bytes:
                raise CollectorError(
                    self.config.name, url, f"stream line longer than {self.config.max_body_bytes} bytes"
                )

    def _update(self, data: str, url: str, position: Cursor) -> StreamEvent:
        try:
            status = parse_json(self.config.name, url, data.encode("utf-8"))
            post = self.to_post(status)
        except (CollectorError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, CollectorError) else str(exc)
            return StreamEvent(cursor=dict(position), problem=f"{self.config.name}: stream update: {reason}")
        wanted = self._wanted(post, status)
        for key in self._cursor_keys(post, status):
            position[key] = newer_id(position.get(key), str(status["id"])) or str(status["id"])
        return StreamEvent(cursor=dict(position), post=post if wanted else None)

    def _tags(self, status: dict[str, Any]) -> set[str]:
        original = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        tags = original.get("tags") if isinstance(original.get("tags"), list) else []
        return {str(t.get("name", "")).casefold() for t in tags if isinstance(t, dict)}

    def _cursor_keys(self, post: RawPost, status: dict[str, Any]) -> list[str]:
        tags = self._tags(status)
        keys = [f"tag:{t}" for t in self.config.hashtags if t.casefold() in tags]
        text = f"{post.title or ''}\n{post.text}".casefold()
        keys += [f"search:{q}" for q in self.config.search if q.casefold() in text]
        if self.config.public_timeline:  # every status of the public stream is one of this timeline's
            keys.append(PUBLIC_KEY)
        return keys

    def _wanted(self, post: RawPost, status: dict[str, Any]) -> bool:
        """A status from the public stream must match a hashtag or query; then the keywords apply."""
        on_topic = bool(self._cursor_keys(post, status))
        if len(self.config.hashtags) == 1 and not (self.config.search or self.config.public_timeline):
            on_topic = True  # the hashtag stream only carries that hashtag
        return on_topic and mentions_keyword(post, self.config.keywords)

    def close(self) -> None:
        with self._lock:
            response = self._open
        if response is not None:
            response.close()


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(isoparse(value))
    except (ValueError, OverflowError):
        return None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    """Scheme, host and port of `url`, the port filled in from the scheme when left out."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: an origin nothing else has
        return (parts.scheme, "invalid", None)
    return (
        parts.scheme.lower(),
        (parts.hostname or "").lower(),
        port or {"http": 80, "https": 443}.get(parts.scheme),
    )


def _restore(cursor: Cursor, key: str, value: str | None) -> None:
    if value is None:
        cursor.pop(key, None)
    else:
        cursor[key] = value
