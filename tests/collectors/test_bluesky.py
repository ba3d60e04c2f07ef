"""The Bluesky collector against a real local AppView (searchPosts) and a real local Jetstream websocket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dateutil.parser import isoparse

from collectors.base import CollectorError
from collectors.bluesky import BlueskyCollector, BlueskyConfig, post_web_url
from collectors.streams import StreamEvent
from tests.collectors.stream_servers import (
    JetstreamServer,
    LocalHttpServer,
    Reply,
    Seen,
    fixture_json,
    jetstream_delete,
    jetstream_post,
)

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
DID = "did:plc:u4x7dcjwq2hkzbrn3yv6pfam"


def view(number: int, text: str = "Ma box Lumio clignote") -> dict[str, Any]:
    """A PostView as searchPosts returns it, indexed `number` minutes into the day."""
    at = datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=number)
    stamp = at.isoformat().replace("+00:00", ".000Z")
    return {
        "uri": f"at://{DID}/app.bsky.feed.post/3lbx{number:05d}",
        "cid": f"bafyrei{number:05d}",
        "author": {"did": DID, "handle": "juliette.bsky.social", "displayName": "Juliette R."},
        "record": {"$type": "app.bsky.feed.post", "createdAt": stamp, "langs": ["fr"],
                   "text": f"{text} {number}"},
        "replyCount": 0, "repostCount": 0, "likeCount": number, "quoteCount": 0,
        "indexedAt": stamp,
    }  # fmt: skip


class SearchIndex:
    """searchPosts over a list of posts: sort=latest, limit, opaque cursor, inclusive `since`."""

    def __init__(self, posts: list[dict[str, Any]]) -> None:
        self.posts = posts

    def __call__(self, seen: Seen) -> Reply:
        ordered = sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
        if "since" in seen.query:
            since = isoparse(seen.query["since"])
            ordered = [p for p in ordered if isoparse(p["indexedAt"]) >= since]
        start = int(seen.query.get("cursor") or 0)
        limit = int(seen.query.get("limit", 25))
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        body: dict[str, Any] = {"hitsTotal": len(ordered), "posts": page}
        if more:
            body["cursor"] = str(start + limit)
        return Reply(body=body)


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        yield running


def config(base_url: str, **overrides: Any) -> BlueskyConfig:
    values: dict[str, Any] = {
        "name": "bsky", "base_url": base_url, "queries": ["lumio"], "local": True, "attempts": 3,
        "max_wait_seconds": 0.2, "requests_per_second": 1000, "page_size": 10,
    }  # fmt: skip
    return BlueskyConfig.model_validate({**values, **overrides})


def test_a_search_page_becomes_posts_with_thread_engagement_and_web_urls(server: LocalHttpServer):
    server.route(SEARCH, lambda seen: Reply(body=fixture_json("bluesky", "search_lumio.json")))
    result = BlueskyCollector(config(server.url)).fetch({})

    assert [p.author.handle for p in result.posts] == [
        "juliette.bsky.social", "lumio-support.bsky.social", "tom.example.com"
    ]  # fmt: skip
    juliette, support, tom = result.posts
    assert juliette.native_id == f"at://{DID}/app.bsky.feed.post/3lbx6h2kq7c2s"
    assert juliette.url == "https://bsky.app/profile/juliette.bsky.social/post/3lbx6h2kq7c2s"
    assert juliette.author.id == DID and juliette.author.display_name == "Juliette R."
    assert juliette.author.created_at == datetime(2023, 9, 14, 18, 2, 11, tzinfo=UTC)
    assert (juliette.engagement.likes, juliette.engagement.replies, juliette.engagement.shares) == (21, 3, 8)
    assert juliette.created_at == datetime(2026, 11, 30, 10, 12, 44, 512000, tzinfo=UTC)
    # Bluesky text is plain text: markup-looking characters are kept as the author typed them.
    assert "<b>Trois</b>" in juliette.text
    assert support.thread.parent_id == f"at://{DID}/app.bsky.feed.post/3lbx6aaaa2c2s"
    assert support.thread.root_id == f"at://{DID}/app.bsky.feed.post/3lbx5zzzz2c2s"
    assert tom.language_hint == "en" and juliette.language_hint == "fr"
    assert result.problems == [
        "bsky: searchPosts 'lumio': post at://did:plc:badbadbad/app.bsky.graph.follow/3lbx6: "
        "uri 'at://did:plc:badbadbad/app.bsky.graph.follow/3lbx6' is not a post uri"
    ]
    query = server.hits(SEARCH)[0].query
    assert (query["q"], query["sort"], query["limit"]) == ("lumio", "latest", "10")
    assert result.cursor["q:lumio"] == "2026-11-30T10:12:45.101000Z"


def test_pages_are_followed_by_cursor_up_to_max_pages(server: LocalHttpServer):
    server.route(SEARCH, SearchIndex([view(n) for n in range(1, 81)]))
    result = BlueskyCollector(config(server.url, max_pages=3)).fetch({})
    assert len(result.posts) == 30 and [h.query.get("cursor") for h in server.hits(SEARCH)] == [
        None,
        "10",
        "20",
    ]
    assert result.posts[0].text == "Ma box Lumio clignote 80"


def test_a_second_run_reads_only_new_posts_and_not_the_boundary_twice(server: LocalHttpServer):
    posts = [view(n) for n in range(1, 6)]
    server.route(SEARCH, SearchIndex(posts))
    collector = BlueskyCollector(config(server.url))
    first = collector.fetch({})
    assert len(first.posts) == 5
    twin = view(5, text="Même minute, autre post")  # same instant as the newest already read
    twin["uri"] = f"at://{DID}/app.bsky.feed.post/3lbxtwin5"
    posts += [twin, view(6), view(7)]
    second = collector.fetch(first.cursor)
    assert server.hits(SEARCH)[-1].query["since"] == "2026-11-30T00:05:00Z"
    assert sorted(p.text for p in second.posts) == [
        "Ma box Lumio clignote 6", "Ma box Lumio clignote 7", "Même minute, autre post 5"
    ]  # fmt: skip
    assert collector.fetch(second.cursor).posts == []


def test_more_new_posts_than_max_pages_is_said_not_hidden(server: LocalHttpServer):
    posts = [view(1)]
    server.route(SEARCH, SearchIndex(posts))
    collector = BlueskyCollector(config(server.url, max_pages=2))
    first = collector.fetch({})
    posts += [view(n) for n in range(2, 40)]
    second = collector.fetch(first.cursor)
    assert len(second.posts) == 20
    assert second.problems == [
        "bsky: searchPosts 'lumio': more than 2 pages of new posts; the older ones of them are not read "
        "(raise max_pages)"
    ]


def test_backfill_since_is_passed_to_the_search(server: LocalHttpServer):
    server.route(SEARCH, SearchIndex([view(n) for n in range(1, 21)]))
    result = BlueskyCollector(config(server.url)).fetch(
        {"q:lumio": "2026-12-01T00:00:00Z"}, since=datetime(2026, 11, 30, 0, 15, tzinfo=UTC)
    )
    assert server.hits(SEARCH)[0].query["since"] == "2026-11-30T00:15:00Z"
    assert len(result.posts) == 6


def test_429_with_retry_after_then_success(server: LocalHttpServer):
    answers = iter([Reply(429, {"error": "RateLimitExceeded"}, headers={"Retry-After": "0.1"})])
    server.route(SEARCH, lambda seen: next(answers, None) or Reply(body={"posts": [view(1)]}))
    assert len(BlueskyCollector(config(server.url)).fetch({}).posts) == 1
    assert len(server.hits(SEARCH)) == 2


def test_server_errors_until_attempts_run_out_are_one_collector_error(server: LocalHttpServer):
    server.route(SEARCH, lambda seen: Reply(502, "Bad Gateway"))
    with pytest.raises(CollectorError, match=r"bsky: .*searchPosts: HTTP 502 after 3 attempts"):
        BlueskyCollector(config(server.url)).fetch({})


def test_a_malformed_body_is_one_collector_error(server: LocalHttpServer):
    server.route(SEARCH, lambda seen: Reply(body={"error": "InvalidRequest", "message": "q is required"}))
    with pytest.raises(CollectorError, match="no `posts` list in the searchPosts answer"):
        BlueskyCollector(config(server.url)).fetch({})


def test_a_hostile_handle_never_becomes_a_link():
    assert post_web_url(f"at://{DID}/app.bsky.feed.post/3lbx1", None) == (
        f"https://bsky.app/profile/{DID}/post/3lbx1"
    )
    assert post_web_url("javascript:alert(1)//app.bsky.feed.post/x", "a") is None


def firehose() -> list[dict[str, Any]]:
    base = 1_764_495_000_000_000
    return [
        jetstream_post(base + 1, DID, "3lc00001", "Panne Lumio à Lyon ce matin"),
        jetstream_post(base + 2, "did:plc:other", "3lc00002", "Rien à voir, la météo"),
        {"did": DID, "time_us": base + 3, "kind": "identity",
         "identity": {"did": DID, "handle": "j.bsky.social"}},
        jetstream_delete(base + 4, DID, "3lc00001"),
        "{not json",
        jetstream_post(base + 6, "did:plc:third", "3lc00006", "lumio: retour à la normale", langs=["fr"],
                       reply={"root": {"uri": f"at://{DID}/app.bsky.feed.post/3lc00001", "cid": "b"},
                              "parent": {"uri": f"at://{DID}/app.bsky.feed.post/3lc00001", "cid": "b"}}),
    ]  # fmt: skip


def read_until(events: Iterator[StreamEvent], wanted: int) -> list[StreamEvent]:
    """Events until `wanted` non-tick ones were read (ticks come every second of silence)."""
    seen: list[StreamEvent] = []
    for event in events:
        seen.append(event)
        if len([e for e in seen if e.post or e.deletion or e.problem or e.cursor.get("time_us")]) >= wanted:
            break
    return seen


def test_jetstream_posts_are_kept_by_keyword_and_deletes_become_deletions():
    with JetstreamServer(firehose()) as jetstream:
        collector = BlueskyCollector(config("https://public.api.bsky.app", jetstream_url=jetstream.url))
        events = read_until(collector.stream({}), 6)
        collector.close()
    posts = [e.post for e in events if e.post]
    assert [p.native_id for p in posts] == [
        f"at://{DID}/app.bsky.feed.post/3lc00001", "at://did:plc:third/app.bsky.feed.post/3lc00006"
    ]  # fmt: skip
    assert posts[0].url == f"https://bsky.app/profile/{DID}/post/3lc00001" and posts[0].author.id == DID
    assert posts[1].thread.parent_id == f"at://{DID}/app.bsky.feed.post/3lc00001"
    assert [e.deletion for e in events if e.deletion] == [f"at://{DID}/app.bsky.feed.post/3lc00001"]
    assert [e.problem for e in events if e.problem] == [
        "bsky: jetstream: not JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    ]
    assert events[-1].cursor == {"time_us": str(1_764_495_000_000_006)}
    assert jetstream.connections[0] == {"wantedCollections": "app.bsky.feed.post"}


def test_jetstream_resumes_from_the_cursor_it_is_given():
    with JetstreamServer(firehose()) as jetstream:
        collector = BlueskyCollector(config("https://public.api.bsky.app", jetstream_url=jetstream.url))
        events = read_until(collector.stream({"time_us": str(1_764_495_000_000_004)}), 3)
        collector.close()
    assert jetstream.connections[0]["cursor"] == "1764495000000004"
    assert [e.deletion for e in events if e.deletion] == [f"at://{DID}/app.bsky.feed.post/3lc00001"]
    assert [e.post.native_id for e in events if e.post] == ["at://did:plc:third/app.bsky.feed.post/3lc00006"]


def test_a_dropped_jetstream_connection_is_a_collector_error():
    with JetstreamServer(firehose(), drop_after=2) as jetstream:
        collector = BlueskyCollector(config("https://public.api.bsky.app", jetstream_url=jetstream.url))
        with pytest.raises(CollectorError, match="stream closed"):
            list(collector.stream({}))


def test_a_private_jetstream_address_is_refused_unless_local():
    collector = BlueskyCollector(config("https://public.api.bsky.app", jetstream_url="ws://127.0.0.1:9/subscribe",
                                        local=False))  # fmt: skip
    with pytest.raises(CollectorError, match="private or local address"):
        list(collector.stream({}))


def test_the_firehose_needs_something_to_filter_on():
    with pytest.raises(ValueError, match="set queries"):
        BlueskyConfig(name="b", stream=True)
