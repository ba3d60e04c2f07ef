"""Bluesky: post search on the public AppView, and the live Jetstream firehose.

Search reads `app.bsky.feed.searchPosts?sort=latest`, paged with the answer's `cursor`; the source
cursor keeps, per query, the newest timestamp seen (passed back as `since`, which the API treats as
inclusive, so the posts at exactly that instant are remembered and not taken twice). The stream
(`stream: true`) follows Jetstream's JSON events for `app.bsky.feed.post`, keeps the posts that
mention a keyword (the firehose carries everything), turns deletes into deletions, and its cursor is
the `time_us` of the last event: Jetstream replays from it after a reconnect.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

from dateutil.parser import isoparse
from pydantic import Field, HttpUrl, model_validator
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword
from collectors.http import SourceHttp, safe_link
from collectors.streams import StreamEvent, StreamSourceConfig, connect_ws_socket
from core.documents import Author, Engagement, RawPost, Thread, as_utc

POST_COLLECTION = "app.bsky.feed.post"
# at://<did>/app.bsky.feed.post/<record key>
POST_URI = re.compile(
    r"^at://(?P<did>did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/(?P<rkey>[A-Za-z0-9._:~-]+)$"
)


class BlueskyConfig(StreamSourceConfig):
    type: Literal["bluesky"] = "bluesky"
    base_url: HttpUrl = HttpUrl("https://public.api.bsky.app")
    jetstream_url: str = Field(
        default="wss://jetstream2.us-east.bsky.network/subscribe",
        pattern=r"^wss?://",
        description="Jetstream",
    )
    queries: list[str] = Field(default_factory=list, description="searchPosts queries")
    page_size: int = Field(default=100, ge=1, le=100)
    language: str | None = Field(default=None, description="searchPosts `lang` filter")
    pds_url: HttpUrl = Field(
        default=HttpUrl("https://bsky.social"),
        description="where the replying account signs in and posts (replies/ only)",
    )
    handle_env: str = Field(default="BLUESKY_HANDLE", description="the replying account's handle")
    app_password_env: str = Field(
        default="BLUESKY_APP_PASSWORD", description="an app password of that account"
    )

    @model_validator(mode="after")
    def _something_to_follow(self) -> BlueskyConfig:
        if not self.queries and not (self.stream and self.keywords):
            raise ValueError("set queries (search) or, with stream: true, keywords to keep from the firehose")
        if self.pds_url.scheme != "https" and not self.local:  # the app password would travel in clear
            raise ValueError(
                f"pds_url {self.pds_url} is not https: the app password is only sent over https "
                "(`local: true` for a test server)"
            )
        return self


def post_web_url(uri: str, handle: str | None) -> str | None:
    """The bsky.app address of a post, from its at:// uri and its author's handle (or DID)."""
    match = POST_URI.match(uri)
    if not match:
        return None
    return f"https://bsky.app/profile/{handle or match['did']}/post/{match['rkey']}"


class BlueskyCollector:
    type: ClassVar[str] = "bluesky"

    def __init__(self, config: BlueskyConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        self._socket: ClientConnection | None = None
        self._lock = threading.Lock()

    # --- search -------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """Posts newer than the cursor for every query; `since` backfills from a date."""
        result = FetchResult(cursor=dict(cursor))
        seen: set[str] = set()
        for query in self.config.queries:
            self._search(query, cursor, since, result, seen)
        return result

    def _search(
        self, query: str, cursor: Cursor, since: datetime | None, result: FetchResult, seen: set[str]
    ) -> None:
        key = f"q:{query}"
        stored = None if since else cursor.get(key)
        floor = since or (_date(stored) if stored else None)
        at_floor = set((cursor.get(f"{key}#at") or "").split()) if stored and not since else set()
        url = f"{str(self.config.base_url).rstrip('/')}/xrpc/app.bsky.feed.searchPosts"
        page: str | None = None
        newest: datetime | None = None
        newest_uris: set[str] = set()
        for number in range(1, self.config.max_pages + 1):
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": self.config.page_size}
            if floor:
                params["since"] = floor.isoformat().replace("+00:00", "Z")
            if self.config.language:
                params["lang"] = self.config.language
            if page:
                params["cursor"] = page
            body = self.http.get_json(url, params=params)
            posts = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(posts, list):
                raise CollectorError(self.config.name, url, "no `posts` list in the searchPosts answer")
            reached_floor = False
            for position, view in enumerate(posts, start=1):
                try:
                    post, sort_at = self.view_to_post(view)
                except ValueError as exc:
                    where = (
                        view.get("uri")
                        if isinstance(view, dict) and view.get("uri")
                        else f"{number}.{position}"
                    )
                    result.problems.append(f"{self.config.name}: searchPosts {query!r}: post {where}: {exc}")
                    continue
                if newest is None or sort_at > newest:
                    newest, newest_uris = sort_at, {post.native_id}
                elif sort_at == newest:
                    newest_uris.add(post.native_id)
                if floor and (sort_at < floor or (sort_at == floor and post.native_id in at_floor)):
                    reached_floor = True
                    continue
                if post.native_id in seen or not mentions_keyword(post, self.config.keywords):
                    continue
                seen.add(post.native_id)
                result.posts.append(post)
            page = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if reached_floor or not posts or not page:
                break
        else:
            if floor and page:
                result.problems.append(
                    f"{self.config.name}: searchPosts {query!r}: more than {self.config.max_pages} pages of "
                    "new posts; the older ones of them are not read (raise max_pages)"
                )
        if newest is not None and (not stored or newest >= (_date(stored) or newest)):
            if stored and newest == _date(stored):
                newest_uris |= at_floor
            result.cursor[key] = newest.isoformat().replace("+00:00", "Z")
            result.cursor[f"{key}#at"] = " ".join(sorted(newest_uris))

    def view_to_post(self, view: Any) -> tuple[RawPost, datetime]:
        """A searchPosts PostView as a RawPost, with the timestamp the search sorts on."""
        if not isinstance(view, dict):
            raise ValueError("not an object")
        uri = view.get("uri")
        if not isinstance(uri, str) or not POST_URI.match(uri):
            raise ValueError(f"uri {uri!r} is not a post uri")
        record = view.get("record") if isinstance(view.get("record"), dict) else {}
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        post = self.record_to_post(uri, record, author, view)
        post.engagement = Engagement(
            likes=_count(view.get("likeCount")),
            replies=_count(view.get("replyCount")),
            shares=_count(view.get("repostCount")) + _count(view.get("quoteCount")),
        )
        return post, _date(view.get("indexedAt")) or post.created_at

    def record_to_post(
        self, uri: str, record: dict[str, Any], author: dict[str, Any], raw: dict[str, Any]
    ) -> RawPost:
        """An app.bsky.feed.post record as a RawPost (author: a profile view, or just the DID)."""
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("no text")
        created = _date(record.get("createdAt"))
        if created is None:
            raise ValueError(f"createdAt {record.get('createdAt')!r} is not a date")
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        langs = record.get("langs")
        handle = author.get("handle") if isinstance(author.get("handle"), str) else None
        match = POST_URI.match(uri)
        assert match is not None
        return RawPost(
            source=self.config.name,
            platform="bluesky",
            native_id=uri,
            url=safe_link(post_web_url(uri, handle)),
            author=Author(
                id=author.get("did") if isinstance(author.get("did"), str) else match["did"],
                handle=handle,
                display_name=author.get("displayName")
                if isinstance(author.get("displayName"), str)
                else None,
                followers=author.get("followersCount")
                if isinstance(author.get("followersCount"), int)
                else None,
                created_at=_date(author.get("createdAt")),
            ),
            text=text,
            language_hint=langs[0][:2].lower()
            if isinstance(langs, list) and langs and isinstance(langs[0], str)
            else None,
            created_at=created,
            thread=Thread(parent_id=_reply_uri(reply, "parent"), root_id=_reply_uri(reply, "root")),
            raw=raw,
        )

    # --- Jetstream ----------------------------------------------------------------------------

    def stream_keywords(self) -> list[str]:
        return self.config.keywords or self.config.queries

    def stream(self, cursor: Cursor) -> Iterator[StreamEvent]:
        """Follow Jetstream from `cursor` (a time_us), yielding the posts that mention a keyword."""
        params = {"wantedCollections": POST_COLLECTION}
        if cursor.get("time_us", "").isdigit():
            params["cursor"] = cursor["time_us"]
        url = f"{self.config.jetstream_url}?{urlencode(params)}"
        checked = connect_ws_socket(self.config.name, url, self.config.local, self.config.timeout_seconds)
        position = dict(cursor)
        opened = False
        try:
            with connect(
                url,
                sock=checked,
                open_timeout=self.config.timeout_seconds,
                max_size=self.config.max_body_bytes,
                user_agent_header="Ecoute/0.1 (+https://github.com/ecoute; social listening)",
            ) as socket:
                opened = True
                with self._lock:
                    self._socket = socket
                yield from self._read(socket, url, position)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            what = "stream broke" if opened else "cannot open the stream"
            raise CollectorError(self.config.name, url, f"{what} ({exc})") from exc
        finally:
            checked.close()  # already closed with the websocket, unless the handshake failed
            with self._lock:
                self._socket = None

    def _read(self, socket: ClientConnection, url: str, position: Cursor) -> Iterator[StreamEvent]:
        silent = 0.0
        while True:
            try:
                message = socket.recv(timeout=1.0)
            except TimeoutError:
                silent += 1.0
                if silent >= self.config.idle_timeout_seconds:
                    raise CollectorError(
                        self.config.name, url, f"stream silent for {self.config.idle_timeout_seconds:g}s"
                    ) from None
                yield StreamEvent(cursor=dict(position))
                continue
            except ConnectionClosed as exc:
                raise CollectorError(self.config.name, url, f"stream closed ({exc})") from exc
            silent = 0.0
            yield self._event(message, position)

    def _event(self, message: str | bytes, position: Cursor) -> StreamEvent:
        try:
            event = json.loads(message)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return StreamEvent(
                cursor=dict(position), problem=f"{self.config.name}: jetstream: not JSON ({exc})"
            )
        if not isinstance(event, dict):
            return StreamEvent(cursor=dict(position), problem=f"{self.config.name}: jetstream: not an object")
        time_us = event.get("time_us")
        if isinstance(time_us, int) and time_us > int(position.get("time_us") or 0):
            position["time_us"] = str(time_us)
        commit = event.get("commit")
        if event.get("kind") != "commit" or not isinstance(commit, dict):
            return StreamEvent(cursor=dict(position))  # identity and account events
        if commit.get("collection") != POST_COLLECTION:
            return StreamEvent(cursor=dict(position))
        uri = f"at://{event.get('did')}/{POST_COLLECTION}/{commit.get('rkey')}"
        if not POST_URI.match(uri):
            return StreamEvent(
                cursor=dict(position), problem=f"{self.config.name}: jetstream {time_us}: bad did or rkey"
            )
        operation = commit.get("operation")
        if operation == "delete":
            return StreamEvent(cursor=dict(position), deletion=uri)
        if operation != "create":
            return StreamEvent(cursor=dict(position))
        record = commit.get("record") if isinstance(commit.get("record"), dict) else {}
        try:
            post = self.record_to_post(uri, record, {}, event)
        except ValueError as exc:
            return StreamEvent(cursor=dict(position), problem=f"{self.config.name}: jetstream {uri}: {exc}")
        if not mentions_keyword(post, self.stream_keywords()):
            return StreamEvent(cursor=dict(position))
        return StreamEvent(cursor=dict(position), post=post)

    def close(self) -> None:
        with self._lock:
            socket = self._socket
        if socket is not None:
            socket.close()


def _reply_uri(reply: dict[str, Any], which: str) -> str | None:
    ref = reply.get(which)
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and POST_URI.match(uri) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return as_utc(isoparse(value))
    except (ValueError, OverflowError):
        return None
