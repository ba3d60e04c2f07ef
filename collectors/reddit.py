"""Reddit through its public JSON API: searches and subreddit listings, posts and comment threads.

Without credentials it reads www.reddit.com's public `.json` listings; with an app's client id and
secret in the environment it takes an application-only OAuth token (client_credentials grant) and
reads oauth.reddit.com, which Reddit allows far more requests. Native ids are Reddit fullnames
(`t3_...` posts, `t1_...` comments) so a comment's parent and root are the ids Reddit gives.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, HttpUrl, model_validator

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, parse_json, safe_link
from core.documents import RawPost

# Reddit answers these in place of text that was deleted by its author or removed by moderators.
GONE = frozenset({"[deleted]", "[removed]"})


class RedditConfig(HttpSourceConfig):
    type: Literal["reddit"] = "reddit"
    base_url: HttpUrl = HttpUrl("https://www.reddit.com")
    oauth_base_url: HttpUrl = HttpUrl("https://oauth.reddit.com")
    token_url: HttpUrl = HttpUrl("https://www.reddit.com/api/v1/access_token")
    queries: list[str] = Field(default_factory=list, description="searched newest first")
    subreddits: list[str] = Field(
        default_factory=list, description="their new posts; with queries, each query within each"
    )
    comments: bool = Field(default=True, description="also read the comment thread of each new post")
    subreddit_comments: bool = Field(
        default=False,
        description="also read each subreddit's newest comments (/r/<sub>/comments), by keywords",
    )
    max_comment_threads: int = Field(default=10, ge=0, description="comment threads read per run at most")
    page_size: int = Field(default=100, ge=1, le=100)
    user_agent: str = Field(
        default="python:ecoute:0.1 (open-source social listening)",
        description="Reddit asks for <platform>:<app id>:<version> (by /u/<username>)",
    )
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    username_env: str = Field(
        default="REDDIT_USERNAME", description="the account replies are posted as (replies/ only)"
    )
    password_env: str = Field(default="REDDIT_PASSWORD", description="that account's password (a script app)")
    requests_per_second: float = Field(default=0.5, gt=0, le=1000)
    max_rate_limit_pause: float = Field(
        default=60.0, ge=0, description="wait this long at most when Reddit says the quota is spent"
    )

    @model_validator(mode="after")
    def _reads_something(self) -> RedditConfig:
        if not (self.queries or self.subreddits):
            raise ValueError("a reddit source needs `queries` or `subreddits`")
        return self


class RedditCollector:
    """Reads each listing newest first until it reaches the cursor, then the new posts' comments."""

    type: ClassVar[str] = "reddit"

    def __init__(self, config: RedditConfig) -> None:
        self.config = config
        self.http = SourceHttp(config, headers={"User-Agent": config.user_agent})
        self._token: str | None = None
        self._token_expires = 0.0
        self._quota_spent = False
        self._seen: set[str] = set()

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """Posts (and their comments) newer than the cursor of each listing; `since` backfills."""
        result = FetchResult(cursor=dict(cursor))
        self._seen, self._quota_spent = set(), False
        threads: list[RawPost] = []
        failures: list[CollectorError] = []
        for key, path, params in self._listings():
            if self._quota_spent:
                result.problems.append(f"{self.config.name}: {key}: not read, Reddit's rate limit is spent")
                continue
            try:
                threads += self._read_listing(key, path, params, cursor, since, result)
            except CollectorError as exc:  # this listing's first page: the others are still read
                failures.append(exc)
                result.problems.append(str(exc))
        if failures and not result.posts:
            raise failures[0]
        if self.config.comments:
            for post in threads[: self.config.max_comment_threads]:
                if self._quota_spent:
                    break
                self._read_comments(post, result)
        return result

    def _listings(self) -> Iterator[tuple[str, str, dict[str, str]]]:
        common = {"limit": str(self.config.page_size), "raw_json": "1"}
        for sub in self.config.subreddits:
            if not self.config.queries:
                yield f"r/{sub}", f"/r/{sub}/new.json", common
            if self.config.subreddit_comments:
                yield f"r/{sub} comments", f"/r/{sub}/comments.json", common
            for query in self.config.queries:
                params = {**common, "q": query, "sort": "new", "restrict_sr": "on"}
                yield f"r/{sub} search:{query}", f"/r/{sub}/search.json", params
        if not self.config.subreddits:
            for query in self.config.queries:
                yield f"search:{query}", "/search.json", {**common, "q": query, "sort": "new"}

    def _read_listing(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        cursor: Cursor,
        since: datetime | None,
        result: FetchResult,
    ) -> list[RawPost]:
        """One listing's new posts (comments for a /comments listing), pages following `after` up to
        max_pages; returns the kept posts that have comment threads."""
        kind = "t1" if path.endswith("/comments.json") else "t3"
        seen_created = float(cursor.get(f"{key}|created") or 0)
        seen_name = cursor.get(f"{key}|name")
        floor = since.timestamp() if since else seen_created
        newest: tuple[float, str] | None = None
        kept: list[RawPost] = []
        after: str | None = None
        reached_known = False
        posts_before = len(result.posts)
        for page in range(self.config.max_pages):
            page_params = {**params, "after": after} if after else params
            try:
                listing = self._get(path, page_params)
            except CollectorError as exc:
                if page == 0:
                    raise
                # Pages go newest first: the failed one may hold posts older than those read, so the
                # cursor stays where it was and the next run reads these pages again (ids make it safe).
                read = len(result.posts) - posts_before
                result.problems.append(f"{exc}; {read} posts of {key} read before it are kept")
                return kept
            children, after = _listing_children(self.config.name, path, listing)
            seen_before = len(self._seen)
            for position, child in enumerate(children, start=1):
                data = child.get("data") if isinstance(child, dict) else None
                where = f"{self.config.name}: {key}: item {position}"
                if not isinstance(data, dict) or child.get("kind") != kind:
                    result.problems.append(f"{where}: not a {'comment' if kind == 't1' else 'post'}")
                    continue
                created = data.get("created_utc")
                name = data.get("name")
                if not isinstance(created, int | float) or not name:
                    result.problems.append(f"{where} ({name or data.get('id') or '?'}): no id or date")
                    continue
                if name in self._seen:
                    result.problems.append(f"{where} ({name}): listed twice, kept once")
                    continue
                self._seen.add(str(name))
                if newest is None or created > newest[0]:
                    newest = (float(created), str(name))
                if created < floor or name == seen_name:
                    reached_known = True
                    continue
                if data.get("body" if kind == "t1" else "selftext") in GONE:
                    result.deletions.append(str(name))
                    continue
                try:
                    post = self._comment(data) if kind == "t1" else self._post(data)
                except ValueError as exc:
                    result.problems.append(f"{where} ({name}): {exc}")
                    continue
                # a comment belongs to the conversation its post opened: the post's title counts
                thread_title = data.get("link_title") if isinstance(data.get("link_title"), str) else None
                if mentions_keyword(post, self.config.keywords, thread_title=thread_title):
                    result.posts.append(post)
                    if kind == "t3" and data.get("num_comments"):
                        kept.append(post)
            # a page of nothing but repeats means the server ignores `after`: paging on would loop
            if reached_known or not after or self._quota_spent or len(self._seen) == seen_before:
                break
        else:
            if after and (seen_name or since):
                result.problems.append(
                    f"{self.config.name}: {key}: stopped after {self.config.max_pages} pages, "
                    "older posts not read"
                )
        if newest and newest[0] >= seen_created:
            result.cursor[f"{key}|created"] = repr(newest[0])
            result.cursor[f"{key}|name"] = newest[1]
        return kept

    def _read_comments(self, post: RawPost, result: FetchResult) -> None:
        path = f"/comments/{post.native_id.removeprefix('t3_')}.json"
        try:
            answer = self._get(path, {"limit": "500", "sort": "new", "raw_json": "1"})
        except CollectorError as exc:
            # one unreadable thread loses its comments, not the posts already read
            result.problems.append(f"{self.config.name}: {path}: comments not read ({exc.reason})")
            return
        if not (isinstance(answer, list) and len(answer) == 2):
            result.problems.append(f"{self.config.name}: {path}: not a post and its comments")
            return
        comments, _ = _listing_children(self.config.name, path, answer[1])
        for position, data in enumerate(_walk_comments(comments), start=1):
            where = f"{self.config.name}: {path}: comment {position}"
            name = data.get("name")
            if not name or not isinstance(data.get("created_utc"), int | float):
                result.problems.append(f"{where} ({name or '?'}): no id or date")
                continue
            if name in self._seen:
                result.problems.append(f"{where} ({name}): listed twice, kept once")
                continue
            self._seen.add(str(name))
            if data.get("body") in GONE:
                result.deletions.append(str(name))
                continue
            try:
                comment = self._comment(data)
            except ValueError as exc:
                result.problems.append(f"{where} ({name}): {exc}")
                continue
            # a reply belongs to the conversation its post opened: the post's title counts
            if mentions_keyword(comment, self.config.keywords, thread_title=post.title):
                result.posts.append(comment)

    def _post(self, data: dict[str, Any]) -> RawPost:
        title = plain_text(data.get("title"))
        body = plain_text(data.get("selftext_html")) or str(data.get("selftext") or "").strip()
        if not (title or body):
            raise ValueError("no title and no text")
        return RawPost(
            source=self.config.name,
            platform="reddit",
            native_id=str(data["name"]),
            url=self._permalink(data),
            author=_author(data),
            title=title or None,
            text=body or title,
            created_at=datetime.fromtimestamp(data["created_utc"], UTC),
            engagement={"likes": _count(data.get("score")), "replies": _count(data.get("num_comments"))},
            raw=data,
        )

    def _comment(self, data: dict[str, Any]) -> RawPost:
        body = plain_text(data.get("body_html")) or str(data.get("body") or "").strip()
        if not body:
            raise ValueError("no text")
        replies = data.get("replies")
        return RawPost(
            source=self.config.name,
            platform="reddit",
            native_id=str(data["name"]),
            url=self._permalink(data),
            author=_author(data),
            text=body,
            created_at=datetime.fromtimestamp(data["created_utc"], UTC),
            thread={"parent_id": data.get("parent_id"), "root_id": data.get("link_id")},
            engagement={"likes": _count(data.get("score")), "replies": len(_children(replies))},
            raw={k: v for k, v in data.items() if k != "replies"},
        )

    def _permalink(self, data: dict[str, Any]) -> str | None:
        permalink = data.get("permalink")
        if isinstance(permalink, str) and permalink.startswith("/"):
            return safe_link(f"https://www.reddit.com{permalink}")
        # Comments read from some listings come without a permalink: Reddit's URL is made of the ids.
        subreddit, thread, comment = data.get("subreddit"), data.get("link_id"), data.get("id")
        if all(isinstance(v, str) and v.replace("_", "").isalnum() for v in (subreddit, thread, comment)):
            thread_id = str(thread).removeprefix("t3_")
            return safe_link(f"https://www.reddit.com/r/{subreddit}/comments/{thread_id}/_/{comment}/")
        return None

    def _get(self, path: str, params: dict[str, str]) -> Any:
        base, headers = self._endpoint()
        url = f"{base}{path}"
        response = self.http.get(url, params=params, headers=headers)
        self._respect_rate_limit(response.headers)
        if response.status_code == 401 and headers:
            self._token = None
            raise CollectorError(self.config.name, url, "HTTP 401: the OAuth token was refused")
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        return parse_json(self.config.name, url, response.content)

    def _endpoint(self) -> tuple[str, dict[str, str]]:
        """The API root and auth header: oauth.reddit.com with a token when credentials are set."""
        client_id = os.environ.get(self.config.client_id_env)
        secret = os.environ.get(self.config.client_secret_env)
        if not (client_id and secret):
            return str(self.config.base_url).rstrip("/"), {}
        if self._token is None or time.monotonic() >= self._token_expires:
            self._token, lifetime = self._new_token(client_id, secret)
            self._token_expires = time.monotonic() + max(lifetime - 60, 30)
        return str(self.config.oauth_base_url).rstrip("/"), {"Authorization": f"bearer {self._token}"}

    def _new_token(self, client_id: str, secret: str) -> tuple[str, float]:
        url = str(self.config.token_url)
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        response = self.http.post(
            url, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
        if response.status_code in (400, 401, 403):
            raise CollectorError(
                self.config.name,
                url,
                f"HTTP {response.status_code}: app credentials refused "
                f"(check {self.config.client_id_env} and {self.config.client_secret_env})",
            )
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        answer = parse_json(self.config.name, url, response.content)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            error = answer.get("error") if isinstance(answer, dict) else None
            raise CollectorError(self.config.name, url, f"no access token in the answer ({error or '?'})")
        expires = answer.get("expires_in")
        return token, float(expires) if isinstance(expires, int | float) else 3600.0

    def _respect_rate_limit(self, headers: Any) -> None:
        """Pause until the window resets when X-Ratelimit-Remaining reaches 0; stop if that is too long."""
        try:
            remaining = float(headers.get("X-Ratelimit-Remaining", "nan"))
            reset = float(headers.get("X-Ratelimit-Reset", "0"))
        except ValueError:
            return
        if not remaining < 1:
            return
        if reset > self.config.max_rate_limit_pause:
            self._quota_spent = True
            return
        time.sleep(max(reset, 0.0))


def _listing_children(source: str, where: str, listing: Any) -> tuple[list[Any], str | None]:
    """The children and `after` token of a Listing; anything else is a CollectorError."""
    if not (isinstance(listing, dict) and listing.get("kind") == "Listing"):
        raise CollectorError(source, where, "not a Reddit listing")
    data = listing.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("children"), list):
        raise CollectorError(source, where, "listing without children")
    after = data.get("after")
    return data["children"], after if isinstance(after, str) and after else None


def _children(replies: Any) -> list[Any]:
    if isinstance(replies, dict) and isinstance(replies.get("data"), dict):
        children = replies["data"].get("children")
        return children if isinstance(children, list) else []
    return []


def _walk_comments(children: list[Any]) -> Iterator[dict[str, Any]]:
    """Every t1 comment of a thread, depth first; `more` stubs (unloaded replies) are passed over."""
    for child in children:
        if (
            not isinstance(child, dict)
            or child.get("kind") != "t1"
            or not isinstance(child.get("data"), dict)
        ):
            continue
        yield child["data"]
        yield from _walk_comments(_children(child["data"].get("replies")))


def _author(data: dict[str, Any]) -> dict[str, Any]:
    handle = data.get("author")
    if handle == "[deleted]":
        return {}
    return {"id": data.get("author_fullname"), "handle": handle}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
