"""Google Play Developer API reviews.list against a local server replaying its documented responses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.base import CollectorError
from collectors.googleplay import GooglePlayCollector, GooglePlayConfig
from tests.collectors.reviews_server import ReplayServer, Reply, Seen, fixture_json, replay_server

TOKEN = "ya29.a0-test-access-token-XYZ"
PACKAGE = "fr.lumio.moi"
PATH = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
T = 1795600000


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


@pytest.fixture(autouse=True)
def access_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_PLAY_ACCESS_TOKEN", TOKEN)


def paged(seen: Seen) -> Reply:
    if seen.headers.get("authorization") != f"Bearer {TOKEN}":
        return Reply(401, fixture_json("googleplay", "unauthenticated.json"))
    second = seen.query.get("token") == "Cg0IARIJZ3A6QU9xcGFnZTI"
    return Reply(200, fixture_json("googleplay", "reviews_page2.json" if second else "reviews_page1.json"))


def collector(server: ReplayServer, **overrides) -> GooglePlayCollector:
    fields = dict(
        name="android",
        base_url=server.url,
        package_name=PACKAGE,
        developer_name="Lumio",
        local=True,
        attempts=3,
        max_wait_seconds=0.2,
        requests_per_second=1000,
    )
    return GooglePlayCollector(GooglePlayConfig(**{**fields, **overrides}))


def test_reviews_and_developer_replies_become_posts(server: ReplayServer):
    server.on(PATH, paged)
    result = collector(server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    assert list(by_id) == ["gp:AOqpTOH1newest", "gp:AOqpTOH1newest:reply", "gp:AOqpTOH2", "gp:AOqpTOH4old"]
    review = by_id["gp:AOqpTOH1newest"]
    assert review.text == "L'appli Lumio plante depuis la 4.2.1" and review.raw["rating"] == 1
    assert review.author.display_name == "Marie Laurent" and review.language_hint == "fr"
    assert review.engagement.likes == 7 and review.engagement.replies == 1
    assert review.created_at.timestamp() == T + 3000
    reply = by_id["gp:AOqpTOH1newest:reply"]
    assert reply.thread.parent_id == "gp:AOqpTOH1newest" and reply.thread.root_id == "gp:AOqpTOH1newest"
    assert reply.author.display_name == "Lumio" and reply.text == "Bonjour Marie, un correctif arrive demain."
    assert by_id["gp:AOqpTOH2"].language_hint == "en"
    assert server.hits(PATH)[1].query["token"] == "Cg0IARIJZ3A6QU9xcGFnZTI"


def test_html_is_cleaned_and_a_review_without_text_is_one_problem(server: ReplayServer):
    server.on(PATH, paged)
    result = collector(server).fetch({})
    english = next(p for p in result.posts if p.native_id == "gp:AOqpTOH2")
    assert english.text == "Great coverage, fast support" and "javascript" not in english.text
    assert english.author.display_name is None
    assert result.problems == ["android: page 1 review 3: gp:AOqpTOH3broken: no text"]


def test_max_pages_bounds_the_pages_read(server: ReplayServer):
    server.on(PATH, paged)
    result = collector(server, max_pages=1).fetch({})
    assert len(server.hits(PATH)) == 1 and "gp:AOqpTOH4old" not in {p.native_id for p in result.posts}


def test_second_run_returns_only_reviews_changed_since(server: ReplayServer):
    server.on(PATH, paged)
    source = collector(server)
    first = source.fetch({})
    assert first.cursor == {"last_modified": str(T + 3600)}
    newer = fixture_json("googleplay", "reviews_newer.json")
    server.on(PATH, lambda _: Reply(200, newer))
    second = source.fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["gp:AOqpTOH5brandnew"]
    assert second.cursor == {"last_modified": str(T + 9000)}


def test_rejected_token_is_one_clear_error_without_the_token(server: ReplayServer, monkeypatch):
    server.on(PATH, paged)
    monkeypatch.setenv("GOOGLE_PLAY_ACCESS_TOKEN", "ya29.expired-token")
    with pytest.raises(CollectorError, match="HTTP 401: access token rejected") as caught:
        collector(server).fetch({})
    assert "ya29" not in str(caught.value)


def test_missing_token_names_the_variable(server: ReplayServer, monkeypatch):
    monkeypatch.delenv("GOOGLE_PLAY_ACCESS_TOKEN")
    with pytest.raises(CollectorError, match="set the GOOGLE_PLAY_ACCESS_TOKEN environment variable"):
        collector(server).fetch({})
    assert server.requests == []


def test_429_with_retry_after_then_success(server: ReplayServer):
    page = fixture_json("googleplay", "reviews_page2.json")
    server.queue(PATH, Reply(429, {"error": {"code": 429}}, {"Retry-After": "0"}), Reply(200, page))
    result = collector(server).fetch({})
    assert [p.native_id for p in result.posts] == ["gp:AOqpTOH4old"] and len(server.hits(PATH)) == 2


def test_server_errors_exhaust_the_attempts(server: ReplayServer):
    server.queue(PATH, Reply(500, {"error": {"code": 500, "message": "Internal error"}}))
    with pytest.raises(CollectorError, match="HTTP 500 after 3 attempts"):
        collector(server).fetch({})


def test_malformed_body_is_a_collector_error(server: ReplayServer):
    server.queue(PATH, Reply(200, b'{"reviews": [{"reviewId": '))
    with pytest.raises(CollectorError, match="not JSON"):
        collector(server).fetch({})
