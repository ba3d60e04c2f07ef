"""Apple App Store customer reviews from the public iTunes RSS feed (JSON form, no credentials).

The star rating has no field of its own in RawPost: it is kept as `raw["rating"]` (an int, 1-5)
beside the app version and helpful votes. The feed lists the 500 most recent reviews at most
(10 pages of 50) per country; each app + country keeps the newest `updated` it has seen, and the
ids at that instant, as its cursor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from dateutil import parser as dateparser
from pydantic import Field, HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, safe_link
from core.documents import RawPost, as_utc

FEED_PAGES = 10  # Apple serves no page beyond the tenth


class AppStoreConfig(HttpSourceConfig):
    type: Literal["appstore"] = "appstore"
    base_url: HttpUrl = HttpUrl("https://itunes.apple.com")
    app_id: str = Field(pattern=r"^[0-9]+$", description="the number after /id in the App Store link")
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1)
    max_pages: int = Field(default=FEED_PAGES, ge=1, le=FEED_PAGES)
    platform: str = "appstore"


def _label(entry: dict[str, Any], key: str) -> str | None:
    """The `label` of one feed field; the JSON feed wraps every value as {"label": ...}."""
    value = entry.get(key)
    if isinstance(value, list):  # `content` may come as text and html variants
        value = next((v for v in value if (v.get("attributes") or {}).get("type") == "text"), value[0])
    if isinstance(value, dict):
        label = value.get("label")
        return str(label) if label is not None else None
    return None


class AppStoreCollector:
    """One post per review; the first entry of page 1 describes the app itself and is skipped."""

    type: ClassVar[str] = "appstore"

    def __init__(self, config: AppStoreConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        self.base = str(config.base_url).rstrip("/")

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        result = FetchResult(cursor=dict(cursor))
        for country in self.config.countries:
            country = country.lower()
            key = f"{self.config.app_id}:{country}"  # a changed app_id starts afresh
            floor = as_utc(since) if since else _parse_time(cursor.get(f"{key}:updated"))
            floor_ids = set() if since else set(filter(None, cursor.get(f"{key}:ids", "").split(",")))
            newest, newest_ids = self._read_country(country, floor, floor_ids, result)
            if newest and (floor is None or newest >= floor):
                if floor is not None and newest == floor:
                    newest_ids |= floor_ids
                result.cursor[f"{key}:updated"] = newest.isoformat()
                result.cursor[f"{key}:ids"] = ",".join(sorted(newest_ids))
        return result

    def _read_country(
        self, country: str, floor: datetime | None, floor_ids: set[str], result: FetchResult
    ) -> tuple[datetime | None, set[str]]:
        newest: datetime | None = None
        newest_ids: set[str] = set()
        seen: set[str] = set()
        for page in range(1, self.config.max_pages + 1):
            url = (
                f"{self.base}/{country}/rss/customerreviews/page={page}/id={self.config.app_id}"
                "/sortby=mostrecent/json"
            )
            feed = self.http.get_json(url)
            if not isinstance(feed, dict) or not isinstance(feed.get("feed"), dict):
                raise CollectorError(
                    self.config.name, url, "not an App Store reviews feed (no `feed` object)"
                )
            entries = feed["feed"].get("entry") or []
            if isinstance(entries, dict):  # a page with one entry gives it bare
                entries = [entries]
            reached_old = False
            for position, entry in enumerate(entries, start=1):
                if isinstance(entry, dict) and "im:rating" not in entry and "im:name" in entry:
                    continue  # the app's own description, not a review
                try:
                    post = self._to_post(entry, country)
                except ValueError as exc:
                    result.problems.append(
                        f"{self.config.name}: {country} page {page} entry {position}: {exc}"
                    )
                    continue
                if post.native_id in seen:
                    result.problems.append(
                        f"{self.config.name}: {country} page {page} entry {position}: "
                        f"review {post.native_id} listed twice"
                    )
                    continue
                seen.add(post.native_id)
                when = as_utc(post.created_at)
                if newest is None or when > newest:
                    newest, newest_ids = when, {post.native_id}
                elif when == newest:
                    newest_ids.add(post.native_id)
                is_new = floor is None or when > floor or (when == floor and post.native_id not in floor_ids)
                if not is_new:
                    reached_old = True
                    continue
                if mentions_keyword(post, self.config.keywords):
                    result.posts.append(post)
            if not entries or reached_old:
                break
        return newest, newest_ids

    def _to_post(self, entry: Any, country: str) -> RawPost:
        if not isinstance(entry, dict):
            raise ValueError("entry is not an object")
        review_id = _label(entry, "id")
        if not review_id:
            raise ValueError("no review id")
        text = plain_text(_label(entry, "content"))
        if not text:
            raise ValueError(f"review {review_id}: no text")
        created = _parse_time(_label(entry, "updated"))
        if created is None:
            raise ValueError(f"review {review_id}: no readable `updated` date")
        rating_label = _label(entry, "im:rating")
        try:
            rating = int(rating_label) if rating_label is not None else None
        except ValueError:
            raise ValueError(f"review {review_id}: rating {rating_label!r} is not a number") from None
        author = entry.get("author") if isinstance(entry.get("author"), dict) else {}
        author_uri = _label(author, "uri")
        link = entry.get("link")
        href = ((link or {}).get("attributes") or {}).get("href") if isinstance(link, dict) else None
        votes = _label(entry, "im:voteSum")
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=review_id,
            url=safe_link(href),
            author={
                "id": author_uri.rstrip("/").rsplit("/id", 1)[-1]
                if author_uri and "/id" in author_uri
                else None,
                "display_name": _label(author, "name"),
                "handle": _label(author, "name"),
            },
            title=plain_text(_label(entry, "title")) or None,
            text=text,
            created_at=created,
            engagement={"likes": max(0, int(votes)) if votes and votes.lstrip("-").isdigit() else 0},
            raw={
                "id": review_id,
                "rating": rating,
                "country": country,
                "app_id": self.config.app_id,
                "version": _label(entry, "im:version"),
                "vote_sum": _label(entry, "im:voteSum"),
                "vote_count": _label(entry, "im:voteCount"),
                "updated": _label(entry, "updated"),
                "author_uri": safe_link(author_uri),
            },
        )


def _author_id(uri: str | None) -> str | None:
    """The reviewer's numeric id from their profile link (…/reviews/id123)."""
    if not uri or "/id" not in uri:
        return None
    return uri.rstrip("/").rsplit("/id", 1)[-1] or None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return as_utc(dateparser.isoparse(value))
    except (ValueError, OverflowError):
        return None
