"""Discourse collector against a real local server answering like a Discourse forum's JSON API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.base import CollectorError
from collectors.discourse import DiscourseCollector, DiscourseConfig
from tests.collectors.conftest import Reply, ScriptedServer, SeenRequest, fixture_json

ALL_POSTS = ["4000/1", "5120/1", "5120/2", "5120/3", "5120/6", "5133/1", "5133/2"]


def discourse(server: ScriptedServer, **overrides) -> DiscourseCollector:
    fields = {
        "name": "lumio-forum",
        "base_url": server.url,
        "queries": ["lumio"],
        "local": True,
        "attempts": 2,
        "max_wait_seconds": 0.05,
        "requests_per_second": 1000,
        **overrides,
    }
    return DiscourseCollector(DiscourseConfig(**fields))


class Forum:
    """The fixture forum: search pages, latest pages, topics and their extra posts."""

    def __init__(self, server: ScriptedServer) -> None:
        self.search = {n: fixture_json("discourse", f"search_page{n}.json") for n in ("1", "2")}
        self.latest = {n: fixture_json("discourse", f"latest_page{n}.json") for n in ("0", "1")}
        server.route("/search.json", lambda r: Reply(200, self.search.get(r.arg("page"), self.search["2"])))
        server.route("/latest.json", lambda r: Reply(200, self.latest[r.arg("page")]))
        for topic_id in (4000, 5120, 5133):
            topic = fixture_json("discourse", f"topic_{topic_id}.json")
            server.route(f"/t/{topic_id}.json", lambda _r, topic=topic: Reply(200, topic))
        self.more_posts = fixture_json("discourse", "topic_5120_posts.json")
        server.route("/t/5120/posts.json", self._posts)

    def _posts(self, request: SeenRequest) -> Reply:
        wanted = {int(i) for i in request.query.get("post_ids[]", [])}
        posts = [p for p in self.more_posts["post_stream"]["posts"] if p["id"] in wanted]
        return Reply(200, {"post_stream": {"posts": posts}, "id": 5120})


def test_search_reads_the_topics_of_matching_posts(http_server: ScriptedServer):
    Forum(http_server)
    result = discourse(http_server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    # topics in the order of their newest matching post, oldest first
    assert list(by_id) == ALL_POSTS
    opening = by_id["5120/1"]
    assert opening.title == "Lumio fibre outage in Lyon — anyone else?"
    assert opening.text == "Since 6am no Lumio fibre in Lyon 3e. Box shows a red light."
    assert opening.thread.parent_id is None
    assert opening.url == f"{http_server.url}/t/lumio-fibre-outage-in-lyon-anyone-else/5120/1"
    assert opening.author.handle == "camille_r" and opening.author.display_name == "Camille R."
    assert opening.author.id == "412"
    assert opening.created_at == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert opening.engagement.likes == 4 and opening.engagement.replies == 1
    assert opening.platform == "forum"
    # replies: to the topic (parent is the opening post) and to a given post number
    assert (by_id["5120/2"].thread.parent_id, by_id["5120/2"].thread.root_id) == ("5120/1", "5120/1")
    assert by_id["5120/3"].thread.parent_id == "5120/2" and by_id["5120/3"].title is None
    assert by_id["5120/3"].engagement.likes == 6
    # the post beyond the topic's first batch came from /t/5120/posts.json; markup and script gone
    late = by_id["5120/6"]
    assert late.thread.parent_id == "5120/3"
    assert late.text == "Back up here. Compensation form?"
    assert [r.query["post_ids[]"] for r in http_server.seen("/t/5120/posts.json")] == [["30030"]]
    # the deleted post is a deletion; the "closed the topic" small action is not a post
    assert result.deletions == ["5120/4"]
    assert result.problems == ["lumio-forum: search:lumio: page 1 hit 3: no post id"]
    assert [r.arg("q") for r in http_server.seen("/search.json")] == ["lumio order:latest"] * 2
    assert [r.arg("page") for r in http_server.seen("/search.json")] == ["1", "2"]
    assert result.cursor == {"search:lumio|seen": "30031", "search:lumio|post": "30031"}


def test_search_pages_stop_at_max_pages(http_server: ScriptedServer):
    Forum(http_server)
    result = discourse(http_server, max_pages=1).fetch({})
    assert "4000/1" not in {p.native_id for p in result.posts}
    assert len(http_server.seen("/search.json")) == 1


def test_second_run_returns_only_new_posts(http_server: ScriptedServer):
    forum = Forum(http_server)
    collector = discourse(http_server)
    first = collector.fetch({})
    assert len(first.posts) == 7
    second = collector.fetch(first.cursor)
    # the malformed hit is still listed above the known posts: counted again, nothing else
    assert second.posts == [] and second.problems == first.problems
    # the first search page already reached known posts: no topic was read again
    assert len(http_server.seen("/t/5120.json")) == 1

    topic = fixture_json("discourse", "topic_5133.json")
    reply = {
        **topic["post_stream"]["posts"][1],
        "id": 30040,
        "post_number": 3,
        "cooked": "<p>Upload is 700 Mb/s.</p>",
    }
    topic["post_stream"]["posts"].append(reply)
    topic["post_stream"]["stream"].append(30040)
    http_server.route("/t/5133.json", lambda _r: Reply(200, topic))
    hit = {**forum.search["1"]["posts"][0], "id": 30040, "post_number": 3}
    forum.search["1"]["posts"].insert(0, hit)
    third = collector.fetch(second.cursor)
    assert [p.native_id for p in third.posts] == ["5133/3"]
    assert third.cursor["search:lumio|post"] == "30040"


def test_topics_beyond_max_topics_wait_for_the_next_run_and_nothing_is_lost(http_server: ScriptedServer):
    Forum(http_server)
    collector = discourse(http_server, max_topics=2)
    first = collector.fetch({})
    assert [p.native_id for p in first.posts] == ALL_POSTS[:5]
    assert first.problems[-1] == "lumio-forum: search:lumio: 1 topics with new posts left for the next run"
    # the post mark did not move, so the topic left over keeps all its new posts
    assert first.cursor == {"search:lumio|seen": "30030"}
    second = collector.fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["5133/1", "5133/2"]
    assert second.cursor == {"search:lumio|seen": "30031", "search:lumio|post": "30031"}


def test_latest_follows_topics_with_new_activity(http_server: ScriptedServer):
    Forum(http_server)
    rules = fixture_json("discourse", "topic_4000.json")
    rules["post_stream"]["posts"][0].update(id=100, topic_id=5090, cooked="<p>Be kind.</p>")
    rules.update(id=5090, title="Forum rules — read first")
    rules["post_stream"]["stream"] = [100]
    http_server.script("/t/5090.json", Reply(200, rules))
    collector = discourse(http_server, queries=[], latest=True)
    first = collector.fetch({})
    assert [p.native_id for p in first.posts] == ["5090/1", *ALL_POSTS]
    assert [r.arg("page") for r in http_server.seen("/latest.json")] == ["0", "1"]
    assert first.cursor["latest|post"] == "30031"
    assert collector.fetch(first.cursor).posts == []

    # 5120 has been read up to its last post; 5133 has a reply after the mark
    later = {"latest|seen": str(datetime(2026, 12, 2, 8, 37, tzinfo=UTC).timestamp()), "latest|post": "30030"}
    before = len(http_server.seen("/latest.json"))
    third = collector.fetch(later)
    assert [p.native_id for p in third.posts] == ["5133/2"]
    # the pinned topic on top is years old but did not end the list; the older 5120 did
    assert len(http_server.seen("/latest.json")) == before + 1


def test_since_reads_only_posts_from_that_date(http_server: ScriptedServer):
    Forum(http_server)
    result = discourse(http_server).fetch({}, since=datetime(2026, 12, 2, 7, 50, tzinfo=UTC))
    assert [p.native_id for p in result.posts] == ["5120/6", "5133/1", "5133/2"]
    assert len(http_server.seen("/search.json")) == 1


def test_keywords_keep_replies_in_a_thread_whose_title_matches(http_server: ScriptedServer):
    Forum(http_server)
    result = discourse(http_server, keywords=["outage"]).fetch({})
    assert [p.native_id for p in result.posts] == ["5120/1", "5120/2", "5120/3", "5120/6"]


def test_api_key_headers_come_from_the_environment(http_server: ScriptedServer, monkeypatch):
    Forum(http_server)
    monkeypatch.setenv("DISCOURSE_API_KEY", "d1sc-key")
    monkeypatch.setenv("DISCOURSE_API_USERNAME", "ecoute-bot")
    discourse(http_server).fetch({})
    assert {r.header("Api-Key") for r in http_server.seen()} == {"d1sc-key"}
    assert {r.header("Api-Username") for r in http_server.seen()} == {"ecoute-bot"}


def test_a_private_forum_without_key_is_one_line_naming_the_variable(http_server: ScriptedServer):
    http_server.script(
        "/search.json", Reply(403, {"errors": ["You are not permitted to view the requested resource."]})
    )
    with pytest.raises(CollectorError, match=r"HTTP 403: the forum wants an API key \(DISCOURSE_API_KEY\)"):
        discourse(http_server).fetch({})


def test_a_deleted_topic_is_a_problem_and_the_others_are_kept(http_server: ScriptedServer):
    Forum(http_server)
    http_server.script(
        "/t/4000.json", Reply(404, {"errors": ["The requested URL or resource could not be found."]})
    )
    result = discourse(http_server).fetch({})
    assert [p.native_id for p in result.posts] == ALL_POSTS[1:]
    assert "lumio-forum: topic 4000: not read (HTTP 404)" in result.problems
    assert result.cursor["search:lumio|post"] == "30031"


def test_a_topic_failing_with_server_errors_is_retried_next_run(http_server: ScriptedServer):
    Forum(http_server)
    http_server.script("/t/5120.json", Reply(502, "<html>Bad Gateway</html>"))
    result = discourse(http_server).fetch({})
    assert [p.native_id for p in result.posts] == ["4000/1"]
    assert "lumio-forum: topic 5120: not read (HTTP 502 after 2 attempts)" in result.problems
    assert result.problems[-1] == "lumio-forum: search:lumio: 2 topics with new posts left for the next run"
    assert result.cursor == {"search:lumio|seen": "29000"}


def test_429_with_retry_after_then_success(http_server: ScriptedServer):
    Forum(http_server)
    http_server.script(
        "/search.json",
        Reply(
            429,
            {"errors": ["Slow down"], "error_type": "rate_limit", "extras": {"wait_seconds": 0}},
            headers={"Retry-After": "0"},
        ),
        Reply(200, fixture_json("discourse", "search_page2.json")),
    )
    result = discourse(http_server).fetch({})
    assert [p.native_id for p in result.posts] == ["4000/1"]
    assert len(http_server.seen("/search.json")) == 2


def test_server_errors_exhausted_become_one_collector_error(http_server: ScriptedServer):
    http_server.script("/search.json", Reply(500, "Internal Server Error"))
    with pytest.raises(CollectorError, match=r"lumio-forum: .*/search.json: HTTP 500 after 2 attempts"):
        discourse(http_server).fetch({})


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/search.json", "<html>maintenance</html>", "not JSON"),
        ("/latest.json", {"topics": []}, "not a topic list"),
    ],
)
def test_a_malformed_body_is_one_collector_error(http_server: ScriptedServer, path, body, reason):
    http_server.script(path, Reply(200, body))
    with pytest.raises(CollectorError, match=reason):
        discourse(http_server, queries=["lumio"] if path == "/search.json" else [], latest=True).fetch({})


def test_config_needs_queries_or_latest():
    with pytest.raises(ValueError, match="needs `queries` or `latest: true`"):
        DiscourseConfig(name="forum", base_url="https://forum.example.org")
