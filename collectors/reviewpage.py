"""Reviews published on ordinary web pages as schema.org `Review` JSON-LD (shops, review sites, maps).

Only the structured data a site publishes for search engines is read, never the page layout.
Each page is fetched with a conditional GET (ETag / Last-Modified), so an unchanged page costs one
304. A review's native id is its `url` or `@id` when given, else a stable hash of author, date and
text. The rating is kept as `raw["rating"]` (with `raw["best_rating"]` to read it against).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from dateutil import parser as dateparser
from pydantic import Field, HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, safe_link
from core.documents import RawPost, as_utc

REVIEW_TYPES = {"Review", "UserReview", "CriticReview", "EmployerReview"}


class ReviewPageConfig(HttpSourceConfig):
    type: Literal["reviewpage"] = "reviewpage"
    urls: list[HttpUrl] = Field(min_length=1, description="pages carrying schema.org Review JSON-LD")
    platform: str = "reviews"


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    # "http://schema.org/Review" and "schema:Review" name the same type
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if v}


def find_reviews(node: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every Review object in a JSON-LD value, with the thing it reviews when it sits inside one."""
    stack: list[tuple[Any, dict[str, Any] | None]] = [(node, None)]
    while stack:
        current, owner = stack.pop(0)
        if isinstance(current, list):
            stack[:0] = [(item, owner) for item in current]
        elif isinstance(current, dict):
            if _types(current) & REVIEW_TYPES:
                yield current, owner
                continue
            children = [
                (value, current if key in ("review", "reviews") else owner)
                for key, value in current.items()
                if isinstance(value, (dict, list))
            ]
            stack[:0] = children


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName")
    return plain_text(str(value)) or None if value else None


class ReviewPageCollector:
    type: ClassVar[str] = "reviewpage"

    def __init__(self, config: ReviewPageConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        result = FetchResult(cursor=dict(cursor))
        for url in (str(u) for u in self.config.urls):
            self._read_page(url, cursor, since, result)
        return result

    def _read_page(self, url: str, cursor: Cursor, since: datetime | None, result: FetchResult) -> None:
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if not since:
            if cursor.get(f"etag:{url}"):
                headers["If-None-Match"] = cursor[f"etag:{url}"]
            if cursor.get(f"modified:{url}"):
                headers["If-Modified-Since"] = cursor[f"modified:{url}"]
        response = self.http.get(url, headers=headers)
        if response.status_code == 304:
            return
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        for key, header in (("etag", "ETag"), ("modified", "Last-Modified")):
            if response.headers.get(header):
                result.cursor[f"{key}:{url}"] = response.headers[header]
            else:
                result.cursor.pop(f"{key}:{url}", None)
        floor = as_utc(since) if since else _parse_date(cursor.get(f"newest:{url}"))
        newest = floor
        soup = BeautifulSoup(response.content, "html.parser")
        blocks = soup.find_all("script", attrs={"type": "application/ld+json"})
        seen: set[str] = set()
        for block_no, block in enumerate(blocks, start=1):
            try:
                data = json.loads(block.string or block.get_text() or "")
            except json.JSONDecodeError as exc:
                reason = f"not JSON ({exc.msg} at line {exc.lineno})"
                result.problems.append(f"{self.config.name}: {url}: JSON-LD block {block_no}: {reason}")
                continue
            for position, (review, owner) in enumerate(find_reviews(data), start=1):
                where = f"{self.config.name}: {url}: JSON-LD block {block_no} review {position}"
                try:
                    post = self._to_post(review, owner, url)
                except ValueError as exc:
                    result.problems.append(f"{where}: {exc}")
                    continue
                if post.native_id in seen:
                    result.problems.append(f"{where}: same review twice on the page")
                    continue
                seen.add(post.native_id)
                dated = post.raw.get("datePublished") is not None
                when = as_utc(post.created_at)
                if dated and floor is not None and when < floor:
                    continue  # older than what this page gave before: already collected
                if dated and (newest is None or when > newest):
                    newest = when
                if mentions_keyword(post, self.config.keywords):
                    result.posts.append(post)
        if newest is not None:
            result.cursor[f"newest:{url}"] = newest.isoformat()

    def _to_post(self, review: dict[str, Any], owner: dict[str, Any] | None, page_url: str) -> RawPost:
        body = review.get("reviewBody") or review.get("description") or review.get("text")
        text = plain_text(body if isinstance(body, str) else None)
        if not text:
            raise ValueError("no reviewBody")
        author = review.get("author")
        if isinstance(author, list):
            author = author[0] if author else None
        author_name = _name(author)
        published = review.get("datePublished") or review.get("dateCreated")
        created = None
        if published is not None:
            created = _parse_date(published)
            if created is None:
                raise ValueError(f"datePublished {str(published)[:40]!r} is not a date")
        rating_node = review.get("reviewRating")
        rating = rating_node.get("ratingValue") if isinstance(rating_node, dict) else None
        best = rating_node.get("bestRating") if isinstance(rating_node, dict) else None
        declared = next((v for v in (review.get("url"), review.get("@id")) if isinstance(v, str) and v), None)
        # "#review-3" names a review on this page only: joined with the page it is global
        link = safe_link(urljoin(page_url, declared)) if declared else None
        native_id = link or _stable_id(author_name, published, text)
        item = review.get("itemReviewed") or owner
        author_url = safe_link(author.get("url")) if isinstance(author, dict) else None
        return RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=native_id,
            url=link or safe_link(page_url),
            author={"display_name": author_name, "id": author_url},
            title=_name(review.get("name")) if review.get("name") else None,
            text=text,
            language_hint=str(review.get("inLanguage"))[:2].lower() if review.get("inLanguage") else None,
            created_at=created or datetime.now(UTC),
            raw={
                "rating": _number(rating),
                "best_rating": _number(best),
                "worst_rating": _number(rating_node.get("worstRating"))
                if isinstance(rating_node, dict)
                else None,
                "item_reviewed": _name(item),
                "datePublished": str(published) if published is not None else None,
                "page": page_url,
                "author_type": sorted(_types(author)) if isinstance(author, dict) else None,
            },
        )


def _stable_id(author: str | None, published: Any, text: str) -> str:
    digest = hashlib.sha256(f"{author or ''}\x1f{published or ''}\x1f{text}".encode()).hexdigest()
    return f"review:{digest[:32]}"


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", ".")) if value is not None else None
    except ValueError:
        return None


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(dateparser.parse(value))
    except (ValueError, OverflowError):
        return None
