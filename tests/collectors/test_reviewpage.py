"""Review pages with schema.org JSON-LD, served by a local HTTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from collectors.base import CollectorError
from collectors.reviewpage import ReviewPageCollector, ReviewPageConfig, find_reviews
from tests.collectors.reviews_server import ReplayServer, Reply, Seen, fixture_text, replay_server


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as server:
        yield server


def collector(server: ReplayServer, *paths: str, **overrides) -> ReviewPageCollector:
    fields = dict(
        name="shop-reviews",
        urls=[f"{server.url}{p}" for p in paths or ("/box-fibre-2",)],
        local=True,
        attempts=3,
        max_wait_seconds=0.2,
        requests_per_second=1000,
    )
    return ReviewPageCollector(ReviewPageConfig(**{**fields, **overrides}))


def conditional(page: str, etag: str) -> Callable[[Seen], Reply]:
    def answer(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, page, {"ETag": etag})

    return answer


def test_reviews_are_found_in_products_graphs_and_businesses(server: ReplayServer):
    server.queue("/box-fibre-2", Reply(200, fixture_text("reviewpage", "shop.html")))
    result = collector(server).fetch({})
    assert [p.author.display_name for p in result.posts] == ["Marie L.", "Jean Dupont", "Guide Conso Lyon"]
    marie, jean, guide = result.posts
    assert marie.native_id == f"{server.url}/box-fibre-2#avis-9001" and marie.url == marie.native_id
    assert marie.title == "Coupures le soir" and marie.language_hint == "fr"
    assert marie.text == "La box Lumio coupe tous les soirs vers 21h.\nSupport injoignable."
    assert marie.raw["rating"] == 2.0 and marie.raw["best_rating"] == 5.0
    assert marie.raw["item_reviewed"] == "Box Lumio Fibre 2"
    assert marie.created_at.isoformat() == "2026-11-20T00:00:00+00:00"
    assert jean.created_at.isoformat() == "2026-11-18T13:30:00+00:00" and jean.raw["rating"] == 5.0
    assert guide.raw["item_reviewed"] == "Boutique Lumio Lyon Part-Dieu" and guide.raw["rating"] == 3.5
    assert guide.created_at.isoformat() == "2026-11-17T00:00:00+00:00"


def test_a_review_without_url_has_a_stable_hashed_id(server: ReplayServer):
    server.on("/box-fibre-2", lambda _: Reply(200, fixture_text("reviewpage", "shop.html")))
    first = collector(server).fetch({}).posts[1]
    again = collector(server).fetch({}).posts[1]
    assert first.native_id.startswith("review:") and first.native_id == again.native_id


def test_markup_and_hostile_links_are_cleaned(server: ReplayServer):
    server.queue("/box-fibre-2", Reply(200, fixture_text("reviewpage", "shop.html")))
    guide = collector(server).fetch({}).posts[2]
    assert guide.text.startswith("Accueil correct, attente longue") and "alert" not in guide.text
    assert guide.url == f"{server.url}/box-fibre-2"  # its javascript: url was dropped for the page's
    assert not guide.native_id.startswith("javascript")


def test_malformed_blocks_and_bad_reviews_are_counted_the_rest_kept(server: ReplayServer):
    server.queue("/box-fibre-2", Reply(200, fixture_text("reviewpage", "shop.html")))
    result = collector(server).fetch({})
    where = f"shop-reviews: {server.url}/box-fibre-2"
    assert result.problems[0].startswith(f"{where}: JSON-LD block 2: not JSON (")
    assert result.problems[1:] == [
        f"{where}: JSON-LD block 3 review 2: no reviewBody",
        f"{where}: JSON-LD block 3 review 3: datePublished 'hier soir, vers 20h' is not a date",
    ]
    assert len(result.posts) == 3


def test_a_page_without_reviews_is_fine(server: ReplayServer):
    server.queue("/contact", Reply(200, fixture_text("reviewpage", "no_reviews.html")))
    result = collector(server, "/contact").fetch({})
    assert result.posts == [] and result.problems == []


def test_unchanged_page_is_one_304_and_new_reviews_only_on_change(server: ReplayServer):
    page = fixture_text("reviewpage", "shop.html")
    server.on("/box-fibre-2", conditional(page, '"v1"'))
    source = collector(server)
    first = source.fetch({})
    assert first.cursor[f"etag:{server.url}/box-fibre-2"] == '"v1"'
    unchanged = source.fetch(first.cursor)
    assert unchanged.posts == [] and server.requests[-1].headers["if-none-match"] == '"v1"'
    newer_review = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Review", '
        '"author": "Paul B", "datePublished": "2026-11-21", "reviewBody": "Enfin réparé, merci."}</script>'
    )
    server.on("/box-fibre-2", conditional(page.replace("</body>", newer_review + "</body>"), '"v2"'))
    changed = source.fetch(unchanged.cursor)
    # reviews older than the page's newest known date are not handed over again
    assert [p.author.display_name for p in changed.posts] == ["Marie L.", "Paul B"]
    assert changed.cursor[f"newest:{server.url}/box-fibre-2"] == "2026-11-21T00:00:00+00:00"


def test_review_objects_are_found_in_lists_and_nested_values():
    data = [
        {"@type": "http://schema.org/Review", "reviewBody": "a"},
        {"@type": "Product", "name": "P", "review": [{"@type": "UserReview", "reviewBody": "b"}]},
        {"@type": "AggregateRating", "ratingValue": 4},
    ]
    found = [(review["reviewBody"], owner and owner["name"]) for review, owner in find_reviews(data)]
    assert found == [("a", None), ("b", "P")]


def test_429_with_retry_after_then_success(server: ReplayServer):
    page = fixture_text("reviewpage", "shop.html")
    server.queue("/box-fibre-2", Reply(429, b"slow down", {"Retry-After": "0"}), Reply(200, page))
    assert len(collector(server).fetch({}).posts) == 3
    assert len(server.hits("/box-fibre-2")) == 2


def test_server_errors_exhaust_the_attempts(server: ReplayServer):
    server.queue("/box-fibre-2", Reply(503, b"down"))
    with pytest.raises(CollectorError, match="HTTP 503 after 3 attempts"):
        collector(server).fetch({})


def test_oversized_and_missing_pages_are_collector_errors(server: ReplayServer):
    server.queue("/huge", Reply(200, "<html>" + "x" * 5000 + "</html>"))
    with pytest.raises(CollectorError, match="body larger than 2048 bytes"):
        collector(server, "/huge", max_body_bytes=2048).fetch({})
    with pytest.raises(CollectorError, match="HTTP 404"):
        collector(server, "/gone").fetch({})
