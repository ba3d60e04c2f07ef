"""Reddit collector against a real local server replaying Reddit-shaped listings and threads."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime

import pytest

from collectors.base import CollectorError
from collectors.reddit import RedditCollector, RedditConfig
from tests.collectors.conftest import Reply, ScriptedServer, SeenRequest, fixture_json


def reddit(server: ScriptedServer, **overrides) -> RedditCollector:
    fields = {
        "name": "reddit-lumio",
        "queries": ["lumio"],
        "local": True,
        "attempts": 2,
        "max_wait_seconds": 0.05,
        "requests_per_second": 1000,
        "base_url": server.url,
        "oauth_base_url": f"{server.url}/oauth",
        "token_url": f"{server.url}/api/v1/access_token",
        **overrides,
    }
    return RedditCollector(RedditConfig(**fields))


def paged_search(request: SeenRequest) -> Reply:
    if request.arg("after") == "t3_1h4wq9z":
        return Reply(200, fixture_json("reddit", "search_page2.json"))
    return Reply(200, fixture_json("reddit", "search_page1.json"))


def serve_search(server: ScriptedServer, prefix: str = "") -> None:
    server.route(f"{prefix}/search.json", paged_search)
    server.script(
        f"{prefix}/comments/1h4xk2a.json", Reply(200, fixture_json("reddit", "comments_1h4xk2a.json"))
    )


def test_search_pages_posts_and_comment_threads(http_server: ScriptedServer):
    serve_search(http_server)
    result = reddit(http_server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    assert list(by_id) == ["t3_1h4xk2a", "t3_1h4wq9z", "t3_1h4u0aa", "t1_m0a1b2c", "t1_m0b2c3d"]
    outage = by_id["t3_1h4xk2a"]
    assert outage.title == "Lumio fibre down again in Lyon?"
    assert outage.text == "Third outage this week & support says nothing. Anyone else?"
    assert outage.url == "https://www.reddit.com/r/france/comments/1h4xk2a/lumio_fibre_down_again_in_lyon?/"
    assert outage.author.handle == "lyon_fibre_guy" and outage.author.id.startswith("t2_")
    assert outage.created_at == datetime.fromtimestamp(1764669600, UTC)
    assert outage.engagement.likes == 12 and outage.engagement.replies == 3
    assert outage.platform == "reddit" and outage.raw["subreddit"] == "france"
    # a link post without text keeps its title as text
    assert by_id["t3_1h4u0aa"].text == "Lumio box 5 review"
    # comments keep their place in the thread: parent and root are Reddit fullnames
    top, reply = by_id["t1_m0a1b2c"], by_id["t1_m0b2c3d"]
    assert top.thread.parent_id == "t3_1h4xk2a" and top.thread.root_id == "t3_1h4xk2a"
    assert reply.thread.parent_id == "t1_m0a1b2c" and reply.thread.root_id == "t3_1h4xk2a"
    # markup and the hostile link are gone, the words stay
    assert reply.text == "Same here, click the status page says all green"
    assert "replies" not in top.raw
    # the deleted post and the removed comment are reported as deletions, not posts
    assert result.deletions == ["t3_1h4t7bb", "t1_m0a9x8y"]
    # pagination followed `after`; the thread was read once
    assert [r.arg("after") for r in http_server.seen("/search.json")] == [None, "t3_1h4wq9z"]
    assert [r.arg("sort") for r in http_server.seen("/search.json")] == ["new", "new"]
    assert len(http_server.seen("/comments/1h4xk2a.json")) == 1


def test_a_post_without_id_is_one_problem_and_the_rest_are_kept(http_server: ScriptedServer):
    serve_search(http_server)
    result = reddit(http_server, comments=False).fetch({})
    assert len(result.posts) == 3
    assert result.problems == ["reddit-lumio: search:lumio: item 3 (?): no id or date"]


def test_pagination_stops_at_max_pages(http_server: ScriptedServer):
    serve_search(http_server)
    result = reddit(http_server, max_pages=1, comments=False).fetch({})
    assert [p.native_id for p in result.posts] == ["t3_1h4xk2a", "t3_1h4wq9z"]
    assert len(http_server.seen("/search.json")) == 1


def test_second_run_returns_only_new_posts(http_server: ScriptedServer):
    listing = fixture_json("reddit", "subreddit_new.json")
    older = {"kind": "Listing", "data": {"after": None, "children": []}}
    http_server.route(
        "/r/telecomFR/new.json", lambda request: Reply(200, older if request.arg("after") else listing)
    )
    collector = reddit(http_server, queries=[], subreddits=["telecomFR"], comments=False)
    first = collector.fetch({})
    assert len(first.posts) == 3
    assert first.cursor == {"r/telecomFR|created": "1764673200.0", "r/telecomFR|name": "t3_1h5a001"}
    assert collector.fetch(first.cursor).posts == []

    newer = copy.deepcopy(listing["data"]["children"][0])
    newer["data"].update(id="1h5b777", name="t3_1h5b777", created_utc=1764676800.0, title="Lumio price rise")
    listing["data"]["children"].insert(0, newer)
    third = collector.fetch(first.cursor)
    assert [p.native_id for p in third.posts] == ["t3_1h5b777"]
    assert third.cursor["r/telecomFR|name"] == "t3_1h5b777"
    # incremental runs stop at the known post instead of paging further back
    assert [r.arg("after") for r in http_server.seen("/r/telecomFR/new.json")] == [
        None,
        "t3_1h59y03",
        None,
        None,
    ]


def test_an_item_listed_twice_is_kept_once_and_counted(http_server: ScriptedServer):
    listing = fixture_json("reddit", "subreddit_new.json")
    listing["data"]["after"] = None
    listing["data"]["children"].append(copy.deepcopy(listing["data"]["children"][0]))
    http_server.script("/r/telecomFR/new.json", Reply(200, listing))
    result = reddit(http_server, queries=[], subreddits=["telecomFR"], comments=False).fetch({})
    assert [p.native_id for p in result.posts] == ["t3_1h5a001", "t3_1h59z02", "t3_1h59y03"]
    assert result.problems == ["reddit-lumio: r/telecomFR: item 4 (t3_1h5a001): listed twice, kept once"]


def test_subreddit_listing_is_filtered_by_keywords(http_server: ScriptedServer):
    listing = fixture_json("reddit", "subreddit_new.json")
    listing["data"]["after"] = None
    http_server.script("/r/telecomFR/new.json", Reply(200, listing))
    result = reddit(http_server, queries=[], subreddits=["telecomFR"], keywords=["lumio"]).fetch({})
    assert [p.native_id for p in result.posts] == ["t3_1h5a001", "t3_1h59z02"]
    assert result.problems == []


def test_a_server_that_ignores_after_does_not_loop(http_server: ScriptedServer):
    http_server.script("/r/telecomFR/new.json", Reply(200, fixture_json("reddit", "subreddit_new.json")))
    result = reddit(http_server, queries=[], subreddits=["telecomFR"], comments=False).fetch({})
    assert len(result.posts) == 3
    # the second page repeated the first: three repeats counted, no third request
    assert len(http_server.seen("/r/telecomFR/new.json")) == 2
    assert len(result.problems) == 3 and all("listed twice" in p for p in result.problems)


def test_queries_with_subreddits_search_within_each(http_server: ScriptedServer):
    http_server.script("/r/telecomFR/search.json", Reply(200, fixture_json("reddit", "subreddit_new.json")))
    reddit(http_server, subreddits=["telecomFR"], comments=False).fetch({})
    sent = http_server.seen("/r/telecomFR/search.json")[0]
    assert (sent.arg("q"), sent.arg("restrict_sr"), sent.arg("sort")) == ("lumio", "on", "new")


def test_since_backfills_down_to_the_date_only(http_server: ScriptedServer):
    serve_search(http_server)
    since = datetime.fromtimestamp(1764664000, UTC)
    result = reddit(http_server, comments=False).fetch({}, since=since)
    assert [p.native_id for p in result.posts] == ["t3_1h4xk2a", "t3_1h4wq9z"]


def test_429_with_retry_after_then_success(http_server: ScriptedServer):
    http_server.script(
        "/search.json",
        Reply(429, {"message": "Too Many Requests", "error": 429}, headers={"Retry-After": "0"}),
        Reply(200, fixture_json("reddit", "search_page2.json")),
    )
    result = reddit(http_server, comments=False).fetch({})
    assert [p.native_id for p in result.posts] == ["t3_1h4u0aa"]
    assert len(http_server.seen("/search.json")) == 2


def test_server_errors_exhausted_become_one_collector_error(http_server: ScriptedServer):
    http_server.script("/search.json", Reply(503, "<html>all our servers are busy</html>"))
    with pytest.raises(CollectorError, match="reddit-lumio: .*/search.json: HTTP 503 after 2 attempts"):
        reddit(http_server).fetch({})


def test_a_failed_second_page_keeps_the_first_and_the_cursor_waits(http_server: ScriptedServer):
    def second_page_fails(request: SeenRequest) -> Reply:
        if request.arg("after"):
            return Reply(500, "oops")
        return Reply(200, fixture_json("reddit", "search_page1.json"))

    http_server.route("/search.json", second_page_fails)
    result = reddit(http_server, comments=False).fetch(
        {"search:lumio|created": "1.0", "search:lumio|name": "t3_x"}
    )
    assert [p.native_id for p in result.posts] == ["t3_1h4xk2a", "t3_1h4wq9z"]
    # page 2 may hold posts older than page 1's and newer than the cursor: the next run reads them again
    assert result.cursor == {"search:lumio|created": "1.0", "search:lumio|name": "t3_x"}
    assert result.problems[-1] == (
        f"reddit-lumio: {http_server.url}/search.json: HTTP 500 after 2 attempts; "
        "2 posts of search:lumio read before it are kept"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [("<html>blocked</html>", "not JSON"), ({"kind": "t3", "data": {}}, "not a Reddit listing")],
)
def test_a_malformed_body_is_one_collector_error(http_server: ScriptedServer, body, reason):
    http_server.script("/search.json", Reply(200, body))
    with pytest.raises(CollectorError, match=reason):
        reddit(http_server).fetch({})


def test_a_comment_without_permalink_gets_its_url_from_its_ids(http_server: ScriptedServer):
    thread = fixture_json("reddit", "comments_1h4xk2a.json")
    del thread[1]["data"]["children"][0]["data"]["permalink"]
    http_server.route("/search.json", paged_search)
    http_server.script("/comments/1h4xk2a.json", Reply(200, thread))
    by_id = {p.native_id: p for p in reddit(http_server).fetch({}).posts}
    assert by_id["t1_m0a1b2c"].url == "https://www.reddit.com/r/france/comments/1h4xk2a/_/m0a1b2c/"


def test_a_subreddits_newest_comments_are_read_by_keywords_and_their_thread_title(
    http_server: ScriptedServer,
):
    """A real /comments listing (tests/fixtures/collectors/reddit/recorded/README.md): no permalinks."""
    empty = {"kind": "Listing", "data": {"after": None, "children": []}}
    http_server.route("/r/all/new.json", lambda _: Reply(200, empty))
    http_server.route(
        "/r/all/comments.json",
        lambda _: Reply(200, fixture_json("reddit", "recorded/praw_r_all_comments.json")),
    )
    collector = reddit(
        http_server, queries=[], subreddits=["all"], subreddit_comments=True, keywords=["young americans"]
    )
    result = collector.fetch({})
    (comment,) = result.posts  # kept through its thread's title, not its own words
    assert comment.native_id == "t1_dbhn11b" and comment.thread.parent_id == "t3_5jk38e"
    assert comment.url == "https://www.reddit.com/r/news/comments/5jk38e/_/dbhn11b/"
    assert comment.text.startswith("I'd like join the armchair economists")
    assert "\n\nThis leads everyone" in comment.text
    assert result.cursor["r/all comments|name"] in {"t1_dbhn11d", "t1_dbhn11b"}


def test_an_unreadable_comment_thread_keeps_the_posts(http_server: ScriptedServer):
    http_server.route("/search.json", paged_search)
    http_server.script("/comments/1h4xk2a.json", Reply(200, {"unexpected": True}))
    result = reddit(http_server).fetch({})
    assert len(result.posts) == 3
    assert "reddit-lumio: /comments/1h4xk2a.json: not a post and its comments" in result.problems


def test_oauth_credentials_take_a_token_and_read_oauth_host(http_server: ScriptedServer, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "my-app-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "s3cr3t-value")
    http_server.script("/api/v1/access_token", Reply(200, fixture_json("reddit", "access_token.json")))
    serve_search(http_server, prefix="/oauth")
    ua = "python:ecoute-tests:0.1 (by /u/lumio_listening)"
    result = reddit(http_server, user_agent=ua).fetch({})
    assert len(result.posts) == 5
    (token_request,) = http_server.seen("/api/v1/access_token")
    assert token_request.method == "POST" and token_request.body == b"grant_type=client_credentials"
    expected = base64.b64encode(b"my-app-id:s3cr3t-value").decode()
    assert token_request.header("Authorization") == f"Basic {expected}"
    api_requests = [r for r in http_server.seen() if r.path.startswith("/oauth/")]
    assert len(api_requests) == 3
    token = fixture_json("reddit", "access_token.json")["access_token"]
    assert all(r.header("Authorization") == f"bearer {token}" for r in api_requests)
    assert all(r.header("User-Agent") == ua for r in http_server.seen())
    assert http_server.seen("/search.json") == []


def test_refused_credentials_are_one_line_without_the_secret(http_server: ScriptedServer, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "my-app-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "s3cr3t-value")
    http_server.script("/api/v1/access_token", Reply(401, {"message": "Unauthorized", "error": 401}))
    with pytest.raises(CollectorError) as refused:
        reddit(http_server).fetch({})
    message = str(refused.value)
    assert "app credentials refused (check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET)" in message
    assert "s3cr3t" not in message and "my-app-id" not in message


def test_spent_rate_limit_pauses_until_the_reset(http_server: ScriptedServer):
    spent = {"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "1"}
    page1 = Reply(200, fixture_json("reddit", "search_page1.json"), headers=spent)
    http_server.script("/search.json", page1, Reply(200, fixture_json("reddit", "search_page2.json")))
    result = reddit(http_server, comments=False).fetch({})
    assert len(result.posts) == 3
    first, second = http_server.seen("/search.json")
    # a lower bound only: the collector waited out the window Reddit announced
    assert second.at - first.at >= 0.95


def test_a_rate_limit_reset_too_far_away_stops_the_run_with_a_problem(http_server: ScriptedServer):
    spent = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "540"}
    http_server.script("/search.json", Reply(200, fixture_json("reddit", "search_page1.json"), headers=spent))
    collector = reddit(http_server, queries=["lumio", "zephyr"], max_rate_limit_pause=5)
    result = collector.fetch({})
    assert len(result.posts) == 2
    assert result.problems[-1] == "reddit-lumio: search:zephyr: not read, Reddit's rate limit is spent"
    assert len(http_server.seen()) == 1


def test_config_needs_queries_or_subreddits():
    with pytest.raises(ValueError, match="needs `queries` or `subreddits`"):
        RedditConfig(name="empty")
