"""Hacker News through the Algolia HN Search API: stories and comments, newest first, per query.

`search_by_date` filtered on `created_at_i` reads only what is newer than the cursor, and the same
filter serves `ecoute collect --since`. A comment keeps its parent and its story as thread ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, SecondMark, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, safe_link
from core.documents import RawPost

ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsConfig(HttpSourceConfig):
    type: Literal["hackernews"] = "hackernews"
    base_url: HttpUrl = HttpUrl("https://hn.algolia.com")
    queries: list[str] = Field(min_length=1, description="each searched newest first")
    tags: str = Field(default="(story,comment)", description="Algolia tag filter: (story,comment) is either")
    hits_per_page: int = Field(default=100, ge=1, le=1000)


class HackerNewsCollector:
    """Reads each query's pages (`page` up to `nbPages`) of hits newer than the query's cursor."""

    type: ClassVar[str] = "hackernews"

    def __init__(self, config: HackerNewsConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """New stories and comments for every query; `since` asks Algolia for history from that time."""
        result = FetchResult(cursor=dict(cursor))
        seen: set[str] = set()
        for query in self.config.queries:
            self._read_query(query, cursor, since, result, seen)
        return result

    def _read_query(
        self, query: str, cursor: Cursor, since: datetime | None, result: FetchResult, seen: set[str]
    ) -> None:
        # The cursor is the newest created_at_i and the ids read at that second: the filter is
        # inclusive (>=) so an item indexed late within the same second is not missed.
        known = SecondMark.load(cursor, query)
        known_at, known_ids = known.at, known.ids
        floor = int(since.timestamp()) if since else known_at
        newest = SecondMark(known_at, set() if since else set(known_ids))
        url = f"{str(self.config.base_url).rstrip('/')}/api/v1/search_by_date"
        page, pages = 0, 1
        while page < pages and page < self.config.max_pages:
            params = {
                "query": query,
                "tags": self.config.tags,
                "hitsPerPage": str(self.config.hits_per_page),
                "page": str(page),
            }
            if floor:
                params["numericFilters"] = f"created_at_i>={floor}"
            answer = self.http.get_json(url, params=params)
            if not isinstance(answer, dict) or not isinstance(answer.get("hits"), list):
                raise CollectorError(self.config.name, url, "not an Algolia search answer (no hits)")
            pages = answer.get("nbPages") if isinstance(answer.get("nbPages"), int) else 0
            for position, hit in enumerate(answer["hits"], start=1):
                where = f"{self.config.name}: {query}: page {page} hit {position}"
                if not isinstance(hit, dict):
                    result.problems.append(f"{where}: not an object")
                    continue
                object_id, created = hit.get("objectID"), hit.get("created_at_i")
                if not object_id or not isinstance(created, int):
                    result.problems.append(f"{where} ({object_id or '?'}): no id or date")
                    continue
                object_id = str(object_id)
                if created == known_at and object_id in known_ids and not since:
                    continue
                if object_id in seen:
                    result.problems.append(f"{where} ({object_id}): listed twice, kept once")
                    continue
                seen.add(object_id)
                newest.see(created, object_id)
                try:
                    post = self._post(hit, object_id, created)
                except ValueError as exc:
                    result.problems.append(f"{where} ({object_id}): {exc}")
                    continue
                if mentions_keyword(post, self.config.keywords, thread_title=hit.get("story_title")):
                    result.posts.append(post)
            page += 1
        if page < pages and (known_at or since):
            result.problems.append(
                f"{self.config.name}: {query}: stopped after {self.config.max_pages} pages, "
                "older items not read"
            )
        newest.store(result.cursor, query)

    def _post(self, hit: dict[str, Any], object_id: str, created: int) -> RawPost:
        tags = hit.get("_tags") if isinstance(hit.get("_tags"), list) else []
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        title = None if is_comment else plain_text(hit.get("title")) or None
        text = plain_text(hit.get("comment_text") if is_comment else hit.get("story_text")) or title
        if not text:
            raise ValueError("no text")
        thread = {}
        if is_comment:
            parent, story = hit.get("parent_id"), hit.get("story_id")
            thread = {
                "parent_id": str(parent) if parent is not None else None,
                "root_id": str(story) if story is not None else None,
            }
        author = hit.get("author")
        return RawPost(
            source=self.config.name,
            platform="hackernews",
            native_id=object_id,
            url=safe_link(ITEM_URL.format(object_id)),
            author={"id": author, "handle": author} if isinstance(author, str) else {},
            title=title,
            text=text,
            language_hint=None,
            created_at=datetime.fromtimestamp(created, UTC),
            thread=thread,
            engagement={"likes": _count(hit.get("points")), "replies": _count(hit.get("num_comments"))},
            raw={k: v for k, v in hit.items() if not k.startswith("_highlight")} | _linked(hit),
        )


def _linked(hit: dict[str, Any]) -> dict[str, Any]:
    """The story's own link, kept only when it is a safe http(s) address."""
    return {"url": safe_link(hit.get("url"))} if "url" in hit else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
