"""Google Play reviews through the Google Play Developer API (`reviews.list`), for apps you publish.

The API wants an OAuth 2.0 access token with the `androidpublisher` scope, read from the
environment variable named by `token_env` (GOOGLE_PLAY_ACCESS_TOKEN by default; for instance
`gcloud auth print-access-token` for a service account given access in the Play Console). The API
only returns reviews created or changed in the last week, so run this source at least daily.
The developer's answer to a review becomes a post of its own with the review as parent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, parse_json
from core.documents import RawPost


class GooglePlayConfig(HttpSourceConfig):
    type: Literal["googleplay"] = "googleplay"
    base_url: HttpUrl = HttpUrl("https://androidpublisher.googleapis.com")
    package_name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$", description="e.g. com.example.app"
    )
    developer_name: str | None = Field(
        default=None, description="author shown on your replies (default: package)"
    )
    max_results: int = Field(default=100, ge=1, le=100)
    translation_language: str | None = Field(
        default=None, description="ask Google to translate reviews to this"
    )
    token_env: str = "GOOGLE_PLAY_ACCESS_TOKEN"
    platform: str = "googleplay"


class GooglePlayCollector:
    """A post per review (rating in raw["rating"]) and per developer reply; cursor: newest lastModified."""

    type: ClassVar[str] = "googleplay"

    def __init__(self, config: GooglePlayConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        base = str(config.base_url).rstrip("/")
        self.url = f"{base}/androidpublisher/v3/applications/{config.package_name}/reviews"

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        token = os.environ.get(self.config.token_env)
        if not token:
            reason = f"no access token: set the {self.config.token_env} environment variable"
            raise CollectorError(self.config.name, self.url, reason)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        floor = int(since.timestamp()) if since else int(cursor.get("last_modified", "0") or 0)
        result = FetchResult(cursor=dict(cursor))
        params: dict[str, Any] = {"maxResults": self.config.max_results}
        if self.config.translation_language:
            params["translationLanguage"] = self.config.translation_language
        newest = floor
        for page in range(1, self.config.max_pages + 1):
            body = self._get(params, headers, token)
            reviews = body.get("reviews") or []
            for position, review in enumerate(reviews, start=1):
                try:
                    posts = self._to_posts(review)
                except ValueError as exc:
                    result.problems.append(f"{self.config.name}: page {page} review {position}: {exc}")
                    continue
                for post, modified in posts:
                    newest = max(newest, modified)
                    if modified > floor and mentions_keyword(post, self.config.keywords):
                        result.posts.append(post)
            token_next = (body.get("tokenPagination") or {}).get("nextPageToken")
            if not token_next:
                break
            params = {**params, "token": token_next}
        if newest > floor:
            result.cursor["last_modified"] = str(newest)
        return result

    def _get(self, params: dict[str, Any], headers: dict[str, str], token: str) -> dict[str, Any]:
        response = self.http.get(self.url, params=params, headers=headers)
        body: Any = None
        try:
            body = parse_json(self.config.name, self.url, response.content) if response.content else None
        except CollectorError:
            if response.status_code < 400:
                raise
        if response.status_code in (401, 403):
            message = _error_message(body).replace(token, "[token]")
            hint = (
                "access token rejected (expired or without the androidpublisher scope? "
                f"renew {self.config.token_env})"
            )
            raise CollectorError(self.config.name, self.url, f"HTTP {response.status_code}: {hint}{message}")
        if response.status_code >= 400:
            raise CollectorError(
                self.config.name,
                self.url,
                f"HTTP {response.status_code}{_error_message(body).replace(token, '[token]')}",
            )
        if not isinstance(body, dict):
            raise CollectorError(self.config.name, self.url, "answer is not a JSON object")
        return body

    def _to_posts(self, review: Any) -> list[tuple[RawPost, int]]:
        if not isinstance(review, dict) or not review.get("reviewId"):
            raise ValueError("no reviewId")
        review_id = str(review["reviewId"])
        comments = review.get("comments") if isinstance(review.get("comments"), list) else []
        user = next((c["userComment"] for c in comments if isinstance(c, dict) and "userComment" in c), None)
        if not isinstance(user, dict):
            raise ValueError(f"{review_id}: no userComment")
        text = plain_text(user.get("text")).strip()
        if not text:
            raise ValueError(f"{review_id}: no text")
        modified = _seconds(user.get("lastModified"))
        if modified is None:
            raise ValueError(f"{review_id}: no readable lastModified")
        url = f"https://play.google.com/store/apps/details?id={self.config.package_name}&reviewId={review_id}"
        language = user.get("reviewerLanguage")
        review_post = RawPost(
            source=self.config.name,
            platform=self.config.platform,
            native_id=review_id,
            url=url,
            author={"display_name": review.get("authorName") or None},
            text=text,
            language_hint=language.split("_")[0].lower() if isinstance(language, str) and language else None,
            created_at=datetime.fromtimestamp(modified, UTC),
            engagement={"likes": int(user.get("thumbsUpCount") or 0)},
            raw={
                "reviewId": review_id,
                "rating": user.get("starRating"),
                "reviewerLanguage": language,
                "appVersionName": user.get("appVersionName"),
                "device": user.get("device"),
                "androidOsVersion": user.get("androidOsVersion"),
                "thumbsDownCount": user.get("thumbsDownCount"),
                "originalText": user.get("originalText"),
                "lastModified": modified,
            },
        )
        posts = [(review_post, modified)]
        developer = next(
            (c["developerComment"] for c in comments if isinstance(c, dict) and "developerComment" in c), None
        )
        reply_text = plain_text(developer.get("text")).strip() if isinstance(developer, dict) else ""
        reply_modified = _seconds(developer.get("lastModified")) if isinstance(developer, dict) else None
        if reply_text and reply_modified is not None:
            name = self.config.developer_name or self.config.package_name
            reply = RawPost(
                source=self.config.name,
                platform=self.config.platform,
                native_id=f"{review_id}:reply",
                url=url,
                author={
                    "id": self.config.package_name,
                    "handle": self.config.package_name,
                    "display_name": name,
                },
                text=reply_text,
                created_at=datetime.fromtimestamp(reply_modified, UTC),
                thread={"parent_id": review_id, "root_id": review_id},
                raw={"reviewId": review_id, "developerComment": True, "lastModified": reply_modified},
            )
            posts.append((reply, reply_modified))
        review_post.engagement.replies = len(posts) - 1
        return posts


def _seconds(value: Any) -> int | None:
    """`lastModified` is {"seconds": "1700000000", "nanos": 0}; seconds come as a string."""
    if not isinstance(value, dict):
        return None
    try:
        return int(value.get("seconds"))
    except (TypeError, ValueError):
        return None


def _error_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f": {plain_text(str(error['message']))[:200]}"
    return ""
