"""App Store customer reviews against a local server replaying the iTunes RSS JSON feed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.appstore import AppStoreCollector, AppStoreConfig
from collectors.base import CollectorError
from tests.collectors.reviews_server import ReplayServer, Reply, fixture_json, replay_server

APP = "1234567890"


def page_path(page: int, country: str = "fr") -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={APP}/sortby=mostrecent/json"


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


def serve_pages(server: ReplayServer, country: str = "fr") -> None:
    server.queue(page_path(1, country), Reply(200, fixture_json("appstore", "page1.json")))
    server.queue(page_path(2, country), Reply(200, fixture_json("appstore", "page2.json")))
    server.queue(page_path(3, country), Reply(200, fixture_json("appstore", "page3_empty.json")))


def collector(server: ReplayServer, **overrides) -> AppStoreCollector:
    fields = dict(
        name="ios",
        base_url=server.url,
        app_id=APP,
        countries=["fr"],
        local=True,
        attempts=3,
        max_wait_seconds=0.2,
        requests_per_second=1000,
    )
    return AppStoreCollector(AppStoreConfig(**{**fields, **overrides}))


def test_reviews_are_read_page_by_page_skipping_the_app_entry(server: ReplayServer):
    serve_pages(server)
    result = collector(server).fetch({})
    assert [p.native_id for p in result.posts] == ["10987654321", "10987654320", "10987654310", "10987654309"]
    first = result.posts[0]
    assert first.title == "Impossible de me connecter" and first.platform == "appstore"
    assert first.text == "Depuis la mise à jour 4.2.1 l'appli Lumio plante au démarrage."
    assert first.raw["rating"] == 1 and first.raw["version"] == "4.2.1" and first.raw["country"] == "fr"
    assert first.author.display_name == "Marie L." and first.author.id == "111"
    assert first.engagement.likes == 4
    assert first.created_at.isoformat() == "2026-11-20T16:12:00+00:00"
    # the empty third page ended the run before the tenth
    assert len(server.requests) == 3


def test_a_review_without_text_is_one_problem_the_rest_kept(server: ReplayServer):
    serve_pages(server)
    result = collector(server).fetch({})
    assert result.problems == ["ios: fr page 1 entry 4: review 10987654319: no text"]


def test_hostile_review_link_is_dropped(server: ReplayServer):
    serve_pages(server)
    result = collector(server).fetch({})
    assert next(p for p in result.posts if p.native_id == "10987654320").url is None
    assert result.posts[0].url.startswith("https://itunes.apple.com/fr/review?id=")


def test_max_pages_bounds_the_pages_read(server: ReplayServer):
    serve_pages(server)
    result = collector(server, max_pages=1).fetch({})
    assert len(server.requests) == 1 and len(result.posts) == 2


def test_second_run_returns_only_new_reviews_and_stops_at_known_ones(server: ReplayServer):
    serve_pages(server)
    source = collector(server)
    first = source.fetch({})
    assert first.cursor == {"fr:updated": "2026-11-20T16:12:00+00:00", "fr:ids": "10987654321"}
    server.queue(page_path(1), Reply(200, fixture_json("appstore", "page1_newer.json")))
    before = len(server.requests)
    second = source.fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["10987654330"]
    assert len(server.requests) == before + 1  # page 2 not read again
    assert second.cursor["fr:updated"] == "2026-11-21T08:00:00+00:00"


def test_each_country_is_its_own_feed_and_cursor(server: ReplayServer):
    serve_pages(server, "fr")
    serve_pages(server, "be")
    result = collector(server, countries=["fr", "BE"]).fetch({})
    assert len(result.posts) == 8 and {p.raw["country"] for p in result.posts} == {"fr", "be"}
    assert {"fr:updated", "be:updated"} <= result.cursor.keys()


def test_429_with_retry_after_then_success(server: ReplayServer):
    server.queue(
        page_path(1),
        Reply(429, b"", {"Retry-After": "0"}),
        Reply(200, fixture_json("appstore", "page2.json")),
    )
    server.queue(page_path(2), Reply(200, fixture_json("appstore", "page3_empty.json")))
    result = collector(server).fetch({})
    assert [p.native_id for p in result.posts] == ["10987654310", "10987654309"]
    assert len(server.hits(page_path(1))) == 2


def test_server_errors_exhaust_the_attempts(server: ReplayServer):
    server.queue(page_path(1), Reply(502, b"Bad Gateway"))
    with pytest.raises(CollectorError, match="HTTP 502 after 3 attempts"):
        collector(server).fetch({})


def test_malformed_body_is_a_collector_error(server: ReplayServer):
    server.queue(page_path(1), Reply(200, "<html><body>Service Unavailable</body></html>"))
    with pytest.raises(CollectorError, match="not JSON"):
        collector(server).fetch({})
    server.queue(page_path(1), Reply(200, {"results": []}))
    with pytest.raises(CollectorError, match="no `feed` object"):
        collector(server).fetch({})
