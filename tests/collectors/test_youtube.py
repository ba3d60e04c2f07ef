"""YouTube Data API v3 comments against a local server replaying the API's documented responses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.base import CollectorError
from collectors.youtube import YoutubeCollector, YoutubeConfig, without_key
from tests.collectors.reviews_server import ReplayServer, Reply, Seen, fixture_json, replay_server

KEY = "AIzaSyTEST-secret-key-0123456789"
VIDEO = "dQw4Lumio01"


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)


def collector(server: ReplayServer, **overrides) -> YoutubeCollector:
    fields = dict(
        name="yt",
        base_url=f"{server.url}/youtube/v3",
        video_ids=[VIDEO],
        local=True,
        attempts=3,
        max_wait_seconds=0.2,
        requests_per_second=1000,
    )
    return YoutubeCollector(YoutubeConfig(**{**fields, **overrides}))


def paged_threads(seen: Seen) -> Reply:
    if seen.headers.get("x-goog-api-key") != KEY:
        error = {"code": 400, "message": "API key not valid.", "errors": [{"reason": "keyInvalid"}]}
        return Reply(400, {"error": error})
    second = seen.query.get("pageToken") == "QURTSl9pMk1wYWdlMg"
    name = "threads_page2.json" if second else "threads_page1.json"
    return Reply(200, fixture_json("youtube", name))


def serve_normal(server: ReplayServer) -> None:
    server.on("/youtube/v3/commentThreads", paged_threads)
    server.queue("/youtube/v3/comments", Reply(200, fixture_json("youtube", "replies.json")))


def test_threads_become_root_posts_and_replies_point_at_them(server: ReplayServer):
    serve_normal(server)
    result = collector(server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    top = by_id["UgzA1newest"]
    assert top.thread.parent_id is None and top.platform == "youtube"
    assert top.text == "Le nouveau forfait **Lumio** est top !\nMerci"  # textOriginal preferred
    assert top.author.handle == "@marie_l" and top.engagement.likes == 12 and top.engagement.replies == 1
    assert top.url == f"https://www.youtube.com/watch?v={VIDEO}&lc=UgzA1newest"
    reply = by_id["UgzA1newest.9xR1"]
    assert reply.thread.parent_id == "UgzA1newest" and reply.thread.root_id == "UgzA1newest"
    # the thread with 4 replies but 2 embedded was completed with comments.list?parentId=
    assert {"UgzB2middle.8aa3", "UgzB2middle.8aa4"} <= by_id.keys()
    assert server.hits("/youtube/v3/comments")[0].query["parentId"] == "UgzB2middle"
    assert "UgzC3oldest" in by_id  # second page followed through nextPageToken
    first = server.hits("/youtube/v3/commentThreads")[0]
    assert first.query["videoId"] == VIDEO and first.query["part"] == "snippet,replies"


def test_html_text_is_cleaned_and_hostile_links_dropped(server: ReplayServer):
    serve_normal(server)
    result = collector(server).fetch({})
    middle = next(p for p in result.posts if p.native_id == "UgzB2middle")
    assert middle.text == "Toujours pas de réseau à Lyon depuis 3 jours, voir"
    assert "<a" not in middle.text and middle.url.startswith("https://www.youtube.com/watch?")
    assert middle.raw["authorChannelUrl"] is None  # a javascript: link is not kept


def test_a_thread_without_its_top_comment_is_one_problem_the_rest_kept(server: ReplayServer):
    serve_normal(server)
    result = collector(server).fetch({})
    assert result.problems == [f"yt: {VIDEO} thread UgzBroken: no topLevelComment"]
    assert len(result.posts) == 8


def test_the_key_travels_in_a_header_never_in_a_url(server: ReplayServer):
    serve_normal(server)
    collector(server).fetch({})
    assert all(seen.headers.get("x-goog-api-key") == KEY for seen in server.requests)
    assert all(KEY not in str(seen.query) for seen in server.requests)
    assert without_key(f"https://x.example/v3/comments?part=snippet&key={KEY}") == (
        "https://x.example/v3/comments?part=snippet"
    )


def test_max_pages_bounds_the_pages_read(server: ReplayServer):
    serve_normal(server)
    result = collector(server, max_pages=1).fetch({})
    assert len(server.hits("/youtube/v3/commentThreads")) == 1
    assert "UgzC3oldest" not in {p.native_id for p in result.posts}


def test_second_run_returns_only_new_comments(server: ReplayServer):
    serve_normal(server)
    source = collector(server)
    first = source.fetch({})
    assert first.cursor == {f"video:{VIDEO}": "2026-11-20T19:00:00+00:00"}
    newer = fixture_json("youtube", "threads_newer.json")
    server.on("/youtube/v3/commentThreads", lambda _: Reply(200, newer))
    second = source.fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["UgzD4brandnew"]
    # the newer page reached an already-seen thread, so older pages were not read again
    assert len(server.hits("/youtube/v3/commentThreads")) == 3
    assert second.cursor[f"video:{VIDEO}"] == "2026-11-21T07:00:00+00:00"


def test_channel_threads_and_search_terms_are_asked_for(server: ReplayServer):
    serve_normal(server)
    result = collector(server, video_ids=[], channel_ids=["UCLumio"], search_terms="réseau").fetch({})
    asked = server.hits("/youtube/v3/commentThreads")[0].query
    assert asked["allThreadsRelatedToChannelId"] == "UCLumio" and asked["searchTerms"] == "réseau"
    assert "channel:UCLumio" in result.cursor


def test_quota_exceeded_is_one_clear_error_without_the_key(server: ReplayServer):
    server.queue("/youtube/v3/commentThreads", Reply(403, fixture_json("youtube", "quota_exceeded.json")))
    with pytest.raises(CollectorError, match="daily quota exceeded") as caught:
        collector(server).fetch({})
    assert KEY not in str(caught.value)


def test_comments_disabled_on_one_video_is_a_problem_not_a_failure(server: ReplayServer):
    def by_video(seen: Seen) -> Reply:
        if seen.query["videoId"] == "closedVideo":
            return Reply(403, fixture_json("youtube", "comments_disabled.json"))
        return paged_threads(seen)

    server.on("/youtube/v3/commentThreads", by_video)
    server.queue("/youtube/v3/comments", Reply(200, fixture_json("youtube", "replies.json")))
    result = collector(server, video_ids=["closedVideo", VIDEO]).fetch({})
    assert result.problems[0].startswith("yt: closedVideo: commentsDisabled: The video identified")
    assert len(result.posts) == 8


def test_429_with_retry_after_then_success(server: ReplayServer):
    server.queue(
        "/youtube/v3/commentThreads",
        Reply(429, {"error": {"code": 429}}, {"Retry-After": "0"}),
        Reply(200, fixture_json("youtube", "threads_page2.json")),
    )
    result = collector(server).fetch({})
    assert [p.native_id for p in result.posts] == ["UgzC3oldest"]
    assert len(server.hits("/youtube/v3/commentThreads")) == 2


def test_server_errors_exhaust_the_attempts(server: ReplayServer):
    server.queue("/youtube/v3/commentThreads", Reply(503, {"error": {"code": 503}}))
    with pytest.raises(CollectorError, match="HTTP 503 after 3 attempts"):
        collector(server).fetch({})
    assert len(server.hits("/youtube/v3/commentThreads")) == 3


def test_malformed_body_is_a_collector_error(server: ReplayServer):
    server.queue("/youtube/v3/commentThreads", Reply(200, b'{"items": [ {"kind": '))
    with pytest.raises(CollectorError, match="not JSON"):
        collector(server).fetch({})


def test_missing_api_key_names_the_variable(server: ReplayServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("YOUTUBE_API_KEY")
    with pytest.raises(CollectorError, match="set the YOUTUBE_API_KEY environment variable"):
        collector(server).fetch({})
    assert server.requests == []
