"""RSS/Atom feeds (news, blogs, review feeds) with conditional GET."""

from __future__ import annotations

import calendar
import codecs
import hashlib
import re
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import feedparser
from charset_normalizer import from_bytes
from pydantic import HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, safe_link
from core.documents import RawPost


class RssConfig(HttpSourceConfig):
    type: Literal["rss"] = "rss"
    url: HttpUrl
    platform: str = "news"


class RssCollector:
    type: ClassVar[str] = "rss"

    def __init__(self, config: RssConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """The feed's items, or nothing new when the server answers 304 to the stored validators.

        A feed has no history beyond what it lists, so `since` only filters (the engine does that).
        """
        url = str(self.config.url)
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("modified"):
            headers["If-Modified-Since"] = cursor["modified"]
        response = self.http.get(url, headers=headers)
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
        feed = feedparser.parse(response.content, response_headers=_content_type(response.headers))
        result = FetchResult(cursor=next_cursor)
        if isinstance(feed.get("bozo_exception"), _WRONG_ENCODING):
            feed = self._decoded_again(response.content, feed, result)
        reason = _bozo_reason(feed)
        if not feed.entries and (reason or not feed.get("version")):
            raise CollectorError(
                self.config.name, url, f"not an RSS/Atom feed ({reason or 'no feed element'})"
            )
        if reason:
            # feedparser keeps the items it read before the document broke off
            result.problems.append(
                f"{self.config.name}: {url}: malformed feed ({reason}), "
                f"{len(feed.entries)} items read before it"
            )
        for position, entry in enumerate(feed.entries, start=1):
            try:
                post = self._to_post(entry, feed)
            except ValueError as exc:
                result.problems.append(f"{self.config.name}: {url}: item {position}: {exc}")
                continue
            if mentions_keyword(post, self.config.keywords):
                result.posts.append(post)
        return result

    def _decoded_again(self, content: bytes, feed: Any, result: FetchResult) -> Any:
        """The feed read in the encoding its bytes are really in, when its declared one does not fit.

        feedparser then falls back to windows-1252, which turns Hebrew, Greek or Cyrillic into Latin
        letters without a word; a detector reading the bytes does better. The change is a problem line.
        """
        guess = from_bytes(content).best()
        if guess is None or _same_encoding(guess.encoding, feed.get("encoding")):
            return feed
        text = XML_DECLARATION.sub("", str(guess), count=1)
        again = feedparser.parse(text.encode("utf-8"), response_headers={"content-type": "application/xml"})
        result.problems.append(
            f"{self.config.name}: {self.config.url}: the feed's declared encoding does not fit its bytes; "
            f"read as {guess.encoding} (detected)"
        )
        return again

    def _to_post(self, entry: Any, feed: Any) -> RawPost:
        title = plain_text(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = plain_text(entry.content[0].get("value"))
        body = body or plain_text(entry.get("summary"))
        if not (title or body):
            raise ValueError(f"{entry.get('id') or entry.get('link') or 'item'}: no title and no text")
        # RSS 2.0 lets an item have neither guid nor link: its id is then what it says, so it stays the
        # same from one run to the next and the item is indexed once.
        native_id = (
            entry.get("id") or entry.get("link") or _content_id(str(self.config.url), entry, title, body)
        )
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        # An item without a date is dated when it was read and flagged `undated`, never passed off as new.
        created = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else datetime.now(UTC)
        author_name = entry.get("author") or feed.feed.get("title")
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=str(native_id),
            url=safe_link(entry.get("link")),
            author={"display_name": author_name, "handle": None},
            title=title or None,
            text=body or title,
            language_hint=(entry.get("language") or feed.feed.get("language") or "")[:2] or None,
            created_at=created,
            dated=when is not None,
            raw={k: entry.get(k) for k in ("id", "link", "title", "summary", "published", "author")},
        )


# Documents feedparser flags but reads completely (a wrong encoding declaration, an odd content type).
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# The bytes do not fit the declared (or guessed) encoding: feedparser fell back to another one.
_WRONG_ENCODING = (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)
XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")


def _content_type(headers: Any) -> dict[str, str]:
    """The server's Content-Type for feedparser, which weighs its charset against the document's."""
    value = headers.get("Content-Type")
    return {"content-type": value} if value else {}


def _same_encoding(one: str | None, other: str | None) -> bool:
    try:
        return codecs.lookup(one or "").name == codecs.lookup(other or "").name
    except LookupError:
        return False


def _content_id(feed_url: str, entry: Any, title: str, body: str) -> str:
    """A stable id for an item without guid or link: the feed, the item's title, text and date."""
    when = entry.get("published") or entry.get("updated") or ""
    digest = hashlib.sha256("\x1f".join((feed_url, title, body, when)).encode("utf-8", "replace"))
    return f"content:{digest.hexdigest()[:32]}"


def _bozo_reason(feed: Any) -> str | None:
    """Why feedparser found the document malformed, or None when it was well-formed."""
    exc = feed.get("bozo_exception")
    if not feed.bozo or isinstance(exc, _HARMLESS):
        return None
    return getattr(exc, "getMessage", lambda: None)() or str(exc or "unreadable")
