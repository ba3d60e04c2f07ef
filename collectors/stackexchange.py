"""Stack Exchange sites through API 2.3: questions matching a search, and the answers to them.

`/search/advanced` sorted by creation reads each query newest first from `fromdate` (the cursor or
`--since`); the answers of the new questions follow, each with its question as parent. The API's
`backoff` field is obeyed (no call to that method until it has passed) and a spent daily quota
stops the run with one line.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, HttpUrl

from collectors.base import CollectorError, Cursor, FetchResult, SecondMark, mentions_keyword, plain_text
from collectors.http import HttpSourceConfig, SourceHttp, parse_json, safe_link
from core.documents import RawPost

# Deadlines set by `backoff` answers, per API root and method, shared by every source in the process.
_backoff_until: dict[tuple[str, str], float] = {}
_backoff_lock = threading.Lock()


class StackExchangeConfig(HttpSourceConfig):
    type: Literal["stackexchange"] = "stackexchange"
    base_url: HttpUrl = HttpUrl("https://api.stackexchange.com")
    site: str = Field(default="stackoverflow", description="api_site_parameter: stackoverflow, superuser...")
    queries: list[str] = Field(min_length=1, description="free-text searches (`q`), newest first")
    tagged: list[str] = Field(default_factory=list, description="only questions with all these tags")
    answers: bool = Field(default=True, description="also read the answers to new questions")
    page_size: int = Field(default=100, ge=1, le=100)
    key_env: str = Field(default="STACKEXCHANGE_KEY", description="an app key raises the daily quota")


class QuotaSpent(Exception):
    """The daily request quota is used up; nothing more can be read today."""


class StackExchangeCollector:
    """Questions per query since the query's cursor, then the answers to those questions."""

    type: ClassVar[str] = "stackexchange"

    def __init__(self, config: StackExchangeConfig) -> None:
        self.config = config
        self.http = SourceHttp(config)
        self.root = str(config.base_url).rstrip("/")
        self._quota_max: int | str | None = None

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """New questions (and their answers) for each query; `since` is sent as `fromdate`."""
        result = FetchResult(cursor=dict(cursor))
        self._quota_max = None
        questions: dict[str, RawPost] = {}
        try:
            for query in self.config.queries:
                self._read_query(query, cursor, since, result, questions)
            if self.config.answers:
                self._read_answers(questions, result)
        except QuotaSpent as exc:
            result.problems.append(f"{self.config.name}: {exc}")
        return result

    def _read_query(
        self,
        query: str,
        cursor: Cursor,
        since: datetime | None,
        result: FetchResult,
        questions: dict[str, RawPost],
    ) -> None:
        # fromdate is inclusive: the ids already read at the newest second are skipped
        known = SecondMark.load(cursor, query)
        known_at, known_ids = known.at, known.ids
        fromdate = int(since.timestamp()) if since else known_at
        newest = SecondMark(known_at, set() if since else set(known_ids))
        params = {
            "site": self.config.site,
            "q": query,
            "sort": "creation",
            "order": "desc",
            "filter": "withbody",
            "pagesize": str(self.config.page_size),
        }
        if self.config.tagged:
            params["tagged"] = ";".join(self.config.tagged)
        if fromdate:
            params["fromdate"] = str(fromdate)
        has_more, page = True, 1
        while has_more and page <= self.config.max_pages:
            answer = self._call("/2.3/search/advanced", {**params, "page": str(page)})
            has_more = answer.get("has_more") is True
            for position, item in enumerate(answer["items"], start=1):
                where = f"{self.config.name}: {query}: page {page} item {position}"
                qid, created = _field(item, "question_id"), _field(item, "creation_date")
                if qid is None or not isinstance(created, int):
                    result.problems.append(f"{where} ({qid or '?'}): no question_id or creation_date")
                    continue
                qid = str(qid)
                if created == known_at and qid in known_ids and not since:
                    continue
                if qid in questions:
                    result.problems.append(f"{where} ({qid}): listed twice, kept once")
                    continue
                newest.see(created, qid)
                try:
                    post = self._question(item, qid, created)
                except ValueError as exc:
                    result.problems.append(f"{where} ({qid}): {exc}")
                    continue
                questions[qid] = post
                if mentions_keyword(post, self.config.keywords):
                    result.posts.append(post)
            page += 1
        if has_more and (known_at or since):
            result.problems.append(
                f"{self.config.name}: {query}: stopped after {self.config.max_pages} pages, "
                "older questions not read"
            )
        newest.store(result.cursor, query)

    def _read_answers(self, questions: dict[str, RawPost], result: FetchResult) -> None:
        answered = [qid for qid, post in questions.items() if post.engagement.replies > 0]
        seen: set[str] = set()
        for start in range(0, len(answered), 100):  # the API takes up to 100 ids a call
            ids = answered[start : start + 100]
            method = f"/2.3/questions/{';'.join(ids)}/answers"
            params = {
                "site": self.config.site,
                "sort": "creation",
                "order": "desc",
                "filter": "withbody",
                "pagesize": str(self.config.page_size),
            }
            has_more, page = True, 1
            while has_more and page <= self.config.max_pages:
                answer = self._call(
                    method, {**params, "page": str(page)}, method_name="/2.3/questions/answers"
                )
                has_more = answer.get("has_more") is True
                for position, item in enumerate(answer["items"], start=1):
                    where = f"{self.config.name}: answers page {page} item {position}"
                    aid, qid = _field(item, "answer_id"), _field(item, "question_id")
                    if aid is None or str(qid) not in questions:
                        result.problems.append(f"{where} ({aid or '?'}): no answer_id or unknown question")
                        continue
                    if str(aid) in seen:
                        result.problems.append(f"{where} ({aid}): listed twice, kept once")
                        continue
                    seen.add(str(aid))
                    question = questions[str(qid)]
                    try:
                        post = self._answer(item, str(aid), question)
                    except ValueError as exc:
                        result.problems.append(f"{where} ({aid}): {exc}")
                        continue
                    if mentions_keyword(post, self.config.keywords, thread_title=question.title):
                        result.posts.append(post)
                page += 1

    def _question(self, item: dict[str, Any], qid: str, created: int) -> RawPost:
        title = plain_text(item.get("title"))
        body = plain_text(item.get("body"))
        if not (title or body):
            raise ValueError("no title and no body")
        return RawPost(
            source=self.config.name,
            platform="stackexchange",
            native_id=qid,
            url=safe_link(item.get("link")),
            author=_owner(item.get("owner")),
            title=title or None,
            text=body or title,
            created_at=datetime.fromtimestamp(created, UTC),
            engagement={"likes": _count(item.get("score")), "replies": _count(item.get("answer_count"))},
            raw={**item, "site": self.config.site},
        )

    def _answer(self, item: dict[str, Any], aid: str, question: RawPost) -> RawPost:
        body = plain_text(item.get("body"))
        created = item.get("creation_date")
        if not body:
            raise ValueError("no body")
        if not isinstance(created, int):
            raise ValueError("no creation_date")
        host = urlsplit(question.url).hostname if question.url else None
        return RawPost(
            source=self.config.name,
            platform="stackexchange",
            native_id=aid,
            url=safe_link(item.get("link") or (f"https://{host}/a/{aid}" if host else None)),
            author=_owner(item.get("owner")),
            text=body,
            created_at=datetime.fromtimestamp(created, UTC),
            thread={"parent_id": question.native_id, "root_id": question.native_id},
            engagement={"likes": _count(item.get("score"))},
            raw={**item, "site": self.config.site},
        )

    def _call(self, method: str, params: dict[str, str], method_name: str | None = None) -> dict[str, Any]:
        """One API call: waits out a pending `backoff`, reads the wrapper, records the next backoff."""
        if self._quota_max is not None:
            raise QuotaSpent(
                f"daily quota of {self._quota_max} requests used up, the rest waits for the next run"
            )
        backoff_key = (self.root, method_name or method)
        with _backoff_lock:
            wait = _backoff_until.get(backoff_key, 0.0) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        key = os.environ.get(self.config.key_env)
        url = f"{self.root}{method}"
        response = self.http.get(url, params={**params, "key": key} if key else params)
        answer = parse_json(self.config.name, url, response.content) if response.content else None
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, _api_error(response.status_code, answer))
        if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
            raise CollectorError(self.config.name, url, "not a Stack Exchange answer (no items)")
        backoff = answer.get("backoff")
        if isinstance(backoff, int | float) and backoff > 0:
            with _backoff_lock:
                _backoff_until[backoff_key] = time.monotonic() + float(backoff)
        if answer.get("quota_remaining") == 0:
            # this answer's items are still good; the next call would be refused
            self._quota_max = answer.get("quota_max") or "?"
        return answer


def _api_error(status: int, answer: Any) -> str:
    """The API's own error line (error_name and error_message) when it sent one."""
    if isinstance(answer, dict) and answer.get("error_name"):
        return f"HTTP {status}: {answer['error_name']}: {answer.get('error_message') or ''}".rstrip(": ")
    return f"HTTP {status}"


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None


def _owner(owner: Any) -> dict[str, Any]:
    """The author; `does_not_exist` owners are deleted accounts with a display name only."""
    if not isinstance(owner, dict):
        return {}
    user_id = owner.get("user_id")
    return {
        "id": str(user_id) if user_id is not None else None,
        "display_name": plain_text(owner.get("display_name")) or None,
        "handle": None,
        "followers": None,
    }


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
