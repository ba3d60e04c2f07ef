"""Hacker News (Algolia) collector against a real local server answering like the Algolia HN API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.base import CollectorError
from collectors.hackernews import HackerNewsCollector, HackerNewsConfig
from tests.collectors.conftest import Reply, ScriptedServer, SeenRequest, fixture_json

SEARCH = "/api/v1/search_by_date"
T = 1764669600  # created_at_i of the IPv6 story in the fixtures


def hn(server: ScriptedServer, **overrides) -> HackerNewsCollector:
    fields = {
        "name": "hn",
        "queries": ["lumio"],
        "local": True,
        "attempts": 2,
        "max_wait_seconds": 0.05,
        "requests_per_second": 1000,
        "base_url": server.url,
        **overrides,
    }
    return HackerNewsCollector(HackerNewsConfig(**fields))


def fixture_hits() -> list[dict]:
    return [h for n in (0, 1) for h in fixture_json("hackernews", f"search_page{n}.json")["hits"]]


class FakeAlgolia:
    """Answers search_by_date like Algolia does: numericFilters, newest first, `page` of `hitsPerPage`."""

    def __init__(self, hits: list[dict]) -> None:
        self.hits = hits

    def __call__(self, request: SeenRequest) -> Reply:
        hits = sorted(self.hits, key=lambda h: -h.get("created_at_i", 0))
        floor = request.arg("numericFilters")
        if floor:
            hits = [h for h in hits if h.get("created_at_i", 0) >= int(floor.split(">=")[1])]
        per_page, page = int(request.arg("hitsPerPage")), int(request.arg("page"))
        pages = -(-len(hits) // per_page)
        body = {
            "hits": hits[page * per_page : (page + 1) * per_page],
            "nbHits": len(hits),
            "nbPages": pages,
            "page": page,
            "hitsPerPage": per_page,
            "query": request.arg("query"),
        }
        return Reply(200, body)


def serve_pages(server: ScriptedServer) -> None:
    """The two recorded pages, chosen by the `page` argument."""
    pages = {str(n): fixture_json("hackernews", f"search_page{n}.json") for n in (0, 1)}
    server.route(SEARCH, lambda request: Reply(200, pages[request.arg("page")]))


def test_stories_and_comments_over_two_pages(http_server: ScriptedServer):
    serve_pages(http_server)
    result = hn(http_server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    assert list(by_id) == ["42311907", "42311800", "42300001", "42300050"]
    comment, story = by_id["42311907"], by_id["42311800"]
    assert comment.title is None
    assert (
        comment.text
        == "We run Lumio fibre at the office; their IPv6 is solid.\n\nThe router, less so & support is slow."
    )
    assert comment.thread.parent_id == "42311850" and comment.thread.root_id == "42311800"
    assert comment.url == "https://news.ycombinator.com/item?id=42311907"
    assert comment.author.handle == "throwaway_fr"
    assert comment.created_at == datetime.fromtimestamp(T + 900, UTC)
    assert story.title == "Lumio's IPv6 rollout, one year later" and story.text == story.title
    assert story.thread.parent_id is None
    assert story.engagement.likes == 42 and story.engagement.replies == 7
    assert story.raw["url"] == "https://engineering.lumio.example/ipv6-rollout"
    assert "_highlightResult" not in story.raw
    ask = by_id["42300001"]
    assert ask.text == "I waited three weeks for a technician."
    assert result.problems == ["hn: lumio: page 0 hit 3 (?): no id or date"]
    sent = http_server.seen(SEARCH)
    assert [r.arg("page") for r in sent] == ["0", "1"]
    assert sent[0].arg("tags") == "(story,comment)" and sent[0].arg("query") == "lumio"
    assert sent[0].arg("numericFilters") is None
    assert result.cursor == {"lumio|created": str(T + 900), "lumio|ids": "42311907"}


def test_pages_stop_at_max_pages(http_server: ScriptedServer):
    serve_pages(http_server)
    result = hn(http_server, max_pages=1).fetch({})
    assert [p.native_id for p in result.posts] == ["42311907", "42311800"]
    assert len(http_server.seen(SEARCH)) == 1


def test_second_run_asks_only_for_newer_items_and_returns_only_new_ones(http_server: ScriptedServer):
    algolia = FakeAlgolia(fixture_hits())
    http_server.route(SEARCH, algolia)
    collector = hn(http_server, hits_per_page=2)
    first = collector.fetch({})
    assert len(first.posts) == 4
    second = collector.fetch(first.cursor)
    assert second.posts == [] and second.problems == []
    assert http_server.seen(SEARCH)[-1].arg("numericFilters") == f"created_at_i>={T + 900}"

    # a reply in the same second as the cursor, and one later: both new
    same_second = {**fixture_hits()[0], "objectID": "42311908", "comment_text": "Lumio again"}
    later = {**fixture_hits()[0], "objectID": "42312000", "created_at_i": T + 4000, "comment_text": "Lumio!"}
    algolia.hits += [same_second, later]
    third = collector.fetch(second.cursor)
    assert sorted(p.native_id for p in third.posts) == ["42311908", "42312000"]
    assert third.cursor == {"lumio|created": str(T + 4000), "lumio|ids": "42312000"}


def test_since_is_sent_as_a_numeric_filter(http_server: ScriptedServer):
    http_server.route(SEARCH, FakeAlgolia(fixture_hits()))
    since = datetime.fromtimestamp(T - 4000, UTC)
    result = hn(http_server).fetch({}, since=since)
    assert http_server.seen(SEARCH)[0].arg("numericFilters") == f"created_at_i>={T - 4000}"
    assert [p.native_id for p in result.posts] == ["42311907", "42311800", "42300050"]


def test_keyword_filter_keeps_comments_whose_story_mentions_it(http_server: ScriptedServer):
    serve_pages(http_server)
    result = hn(http_server, keywords=["arcadia", "ipv6"]).fetch({})
    # 42300050 names Arcadia itself; 42311907 and 42311800 are about the IPv6 story
    assert [p.native_id for p in result.posts] == ["42311907", "42311800", "42300050"]


def test_429_with_retry_after_then_success(http_server: ScriptedServer):
    http_server.script(
        SEARCH,
        Reply(429, {"message": "Too many requests", "status": 429}, headers={"Retry-After": "0"}),
        Reply(200, fixture_json("hackernews", "search_page1.json")),
    )
    result = hn(http_server, max_pages=1).fetch({})
    assert [p.native_id for p in result.posts] == ["42300001", "42300050"]
    assert len(http_server.seen(SEARCH)) == 2


def test_server_errors_exhausted_become_one_collector_error(http_server: ScriptedServer):
    http_server.script(SEARCH, Reply(500, {"message": "internal error"}))
    with pytest.raises(CollectorError, match=r"hn: .*/api/v1/search_by_date: HTTP 500 after 2 attempts"):
        hn(http_server).fetch({})


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b'{"hits": [', "not JSON"), ({"message": "Invalid syntax for numeric value"}, "no hits")],
)
def test_a_malformed_body_is_one_collector_error(http_server: ScriptedServer, body, reason):
    http_server.script(SEARCH, Reply(200, body, content_type="application/json"))
    with pytest.raises(CollectorError, match=reason):
        hn(http_server).fetch({})


def test_a_hit_without_text_is_a_problem_and_the_rest_are_kept(http_server: ScriptedServer):
    hits = fixture_hits()
    hits[0] = {**hits[0], "comment_text": ""}
    http_server.route(SEARCH, FakeAlgolia(hits))
    result = hn(http_server).fetch({})
    assert [p.native_id for p in result.posts] == ["42311800", "42300050", "42300001"]
    assert "hn: lumio: page 0 hit 1 (42311907): no text" in result.problems
