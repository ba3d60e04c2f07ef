"""The Mastodon collector against a real local server shaped like the Mastodon REST and streaming APIs."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collectors.base import CollectorError
from collectors.mastodon import MastodonCollector, MastodonConfig
from tests.collectors.stream_servers import LocalHttpServer, Reply, Seen, fixture_json, sse

TAG_PATH = "/api/v1/timelines/tag/lumio"


def recorded(name: str) -> Any:
    return fixture_json("mastodon", "recorded", name)


def status(number: int, text: str = "La box #Lumio redémarre", **extra: Any) -> dict[str, Any]:
    """A status shaped like Mastodon's Status entity, id growing with `number`."""
    status_id = str(113_600_000_000_000_000 + number)
    created = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=number)
    return {
        "id": status_id,
        "created_at": created.isoformat().replace("+00:00", ".000Z"),
        "in_reply_to_id": None,
        "spoiler_text": "",
        "visibility": "public",
        "language": "fr",
        "uri": f"https://mastodon.example/users/u{number}/statuses/{status_id}",
        "url": f"https://mastodon.example/@u{number}/{status_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": number % 7,
        "content": f"<p>{text} ({number})</p>",
        "reblog": None,
        "account": {"id": str(9000 + number), "acct": f"u{number}", "display_name": f"U {number}",
                    "followers_count": number, "created_at": "2023-01-01T00:00:00.000Z"},
        "tags": [{"name": "lumio", "url": "https://mastodon.example/tags/lumio"}],
        **extra,
    }  # fmt: skip


class Timeline:
    """Mastodon's paging over a list of statuses: limit, max_id, min_id, since_id and Link headers."""

    def __init__(self, server: LocalHttpServer, path: str, statuses: list[dict[str, Any]]) -> None:
        self.server, self.path, self.statuses = server, path, statuses

    def __call__(self, seen: Seen) -> Reply:
        ordered = sorted(self.statuses, key=lambda s: int(s["id"]), reverse=True)
        limit = int(seen.query.get("limit", 20))
        if "max_id" in seen.query:
            ordered = [s for s in ordered if int(s["id"]) < int(seen.query["max_id"])]
        if "since_id" in seen.query:
            ordered = [s for s in ordered if int(s["id"]) > int(seen.query["since_id"])]
        if "min_id" in seen.query:  # the statuses just after min_id, still newest first
            newer = [s for s in ordered if int(s["id"]) > int(seen.query["min_id"])]
            page = newer[-limit:]
        else:
            page = ordered[:limit]
        links = []
        if page:
            base = f"{self.server.url}{self.path}?limit={limit}"
            links = [
                f'<{base}&max_id={page[-1]["id"]}>; rel="next"',
                f'<{base}&min_id={page[0]["id"]}>; rel="prev"',
            ]
        return Reply(body=page, headers={"Link": ", ".join(links)} if links else {})


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with LocalHttpServer() as running:
        yield running


def config(server: LocalHttpServer, **overrides: Any) -> MastodonConfig:
    values: dict[str, Any] = {
        "name": "masto", "instance": server.url, "hashtags": ["lumio"], "local": True,
        "attempts": 3, "max_wait_seconds": 0.2, "requests_per_second": 1000, "page_size": 10,
        "token_env": "ECOUTE_TEST_MASTODON_TOKEN",
    }  # fmt: skip
    return MastodonConfig.model_validate({**values, **overrides})


def test_a_hashtag_page_becomes_posts_with_author_thread_and_engagement(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(body=fixture_json("mastodon", "tag_lumio.json")))
    result = MastodonCollector(config(server)).fetch({})

    by_id = {p.native_id: p for p in result.posts}
    # The boost (…230) is read as the status it boosts (…250): one post, not two.
    assert sorted(by_id) == ["113512345678901210", "113512345678901240", "113512345678901250"]
    claire = by_id["113512345678901250"]
    assert (
        claire.text
        == "Trois jours sans fibre chez #Lumio, le support ne répond pas\xa0😡\nQui a une solution\xa0?"
    )
    assert "<" not in claire.text
    assert claire.author.handle == "claire_m@piaille.example" and claire.author.id == "109876543210"
    assert claire.author.display_name == "Claire M." and claire.author.followers == 312
    assert claire.author.created_at == datetime(2022, 11, 7, tzinfo=UTC)
    assert (claire.engagement.likes, claire.engagement.replies, claire.engagement.shares) == (14, 2, 5)
    assert (
        claire.language_hint == "fr" and claire.url == "https://piaille.example/@claire_m/113512345678901250"
    )
    assert claire.created_at == datetime(2026, 11, 30, 9, 41, 12, tzinfo=UTC)
    reply = by_id["113512345678901240"]
    assert reply.thread.parent_id == "113512345678901100"
    # A javascript: url is never kept; the status's https uri stands in.
    assert reply.url == "https://mastodon.example/users/sam/statuses/113512345678901240"
    assert by_id["113512345678901210"].title == "Long rant"
    # The bad status is one problem line naming it; the others are kept.
    assert result.problems == [
        f"masto: {server.url}{TAG_PATH}: status 113512345678901220: created_at 'not a date' is not a date"
    ]
    assert result.cursor == {"tag:lumio": "113512345678901250"}


def test_pages_are_followed_through_link_headers_up_to_max_pages(server: LocalHttpServer):
    server.route(TAG_PATH, Timeline(server, TAG_PATH, [status(n) for n in range(1, 101)]))
    result = MastodonCollector(config(server, max_pages=3)).fetch({})

    assert len(result.posts) == 30 and len(server.hits(TAG_PATH)) == 3
    assert [p.text for p in result.posts[:2]] == [
        "La box #Lumio redémarre (100)",
        "La box #Lumio redémarre (99)",
    ]
    assert server.hits(TAG_PATH)[1].query["max_id"] == status(91)["id"]
    assert result.cursor == {"tag:lumio": status(100)["id"]}


def test_a_second_run_reads_only_new_statuses_and_leaves_no_gap_past_max_pages(server: LocalHttpServer):
    statuses = [status(n) for n in range(1, 21)]
    server.route(TAG_PATH, Timeline(server, TAG_PATH, statuses))
    collector = MastodonCollector(config(server, max_pages=2))
    first = collector.fetch({})
    assert len(first.posts) == 20

    statuses += [status(n) for n in range(21, 46)]  # 25 new: more than two pages of 10
    second = collector.fetch(first.cursor)
    assert server.hits(TAG_PATH)[-2].query["min_id"] == status(20)["id"]
    third = collector.fetch(second.cursor)
    again = collector.fetch(third.cursor)

    numbers = sorted(int(p.text.rsplit("(", 1)[1].rstrip(")")) for p in second.posts + third.posts)
    assert numbers == list(range(21, 46))  # every new status once, none missed between the runs
    assert again.posts == [] and again.cursor == {"tag:lumio": status(45)["id"]}


def test_backfill_since_reads_back_to_the_date_and_stops(server: LocalHttpServer):
    server.route(TAG_PATH, Timeline(server, TAG_PATH, [status(n) for n in range(1, 61)]))
    since = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=35)
    result = MastodonCollector(config(server, max_pages=10)).fetch(
        {"tag:lumio": status(60)["id"]}, since=since
    )

    assert len(result.posts) == 26  # statuses 35..60, the stored cursor ignored
    assert len(server.hits(TAG_PATH)) == 3  # it stopped once older statuses appeared


def test_429_with_retry_after_is_waited_out_then_read(server: LocalHttpServer):
    answers = iter([Reply(429, {"error": "Too many requests"}, headers={"Retry-After": "0.1"})])
    page = [status(1)]
    server.route(TAG_PATH, lambda seen: next(answers, None) or Reply(body=page))
    result = MastodonCollector(config(server)).fetch({})
    assert [p.native_id for p in result.posts] == [status(1)["id"]] and len(server.hits(TAG_PATH)) == 2


def test_server_errors_until_attempts_run_out_are_one_collector_error(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(503, "<html>down for maintenance</html>"))
    with pytest.raises(CollectorError) as failure:
        MastodonCollector(config(server)).fetch({})
    assert str(failure.value) == f"masto: {server.url}{TAG_PATH}: HTTP 503 after 3 attempts"
    assert len(server.hits(TAG_PATH)) == 3


def test_a_failed_page_keeps_the_pages_before_it_and_the_next_run_resumes_there(server: LocalHttpServer):
    timeline = Timeline(server, TAG_PATH, [status(n) for n in range(1, 31)])
    broken = {"on": True}

    def second_page_fails(seen: Seen) -> Reply:
        if broken["on"] and seen.query.get("min_id") == status(10)["id"]:
            return Reply(500, "oops")
        return timeline(seen)

    server.route(TAG_PATH, second_page_fails)
    collector = MastodonCollector(config(server))
    first = collector.fetch({"tag:lumio": status(0)["id"]})
    assert sorted(p.text for p in first.posts) == sorted(
        f"La box #Lumio redémarre ({n})" for n in range(1, 11)
    )
    assert first.cursor == {"tag:lumio": status(10)["id"]}
    assert first.problems == [
        f"masto: {server.url}{TAG_PATH}?limit=10&min_id={status(10)['id']}: HTTP 500 after 3 attempts; "
        "10 statuses of tag:lumio read before it are kept"
    ]
    broken["on"] = False
    second = collector.fetch(first.cursor)
    assert sorted(int(p.native_id) for p in second.posts) == [int(status(n)["id"]) for n in range(11, 31)]


def test_a_next_page_on_another_port_or_scheme_is_not_followed_and_gets_no_token(
    server: LocalHttpServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_TEST_MASTODON_TOKEN", "s3cret")
    port = int(server.url.rsplit(":", 1)[1])
    elsewhere = [
        f"http://127.0.0.1:{port + 1}{TAG_PATH}?max_id=1",
        f"https://127.0.0.1:{port}{TAG_PATH}?max_id=1",
    ]
    for link in elsewhere:
        server.route(
            TAG_PATH,
            lambda seen, link=link: Reply(body=[status(1)], headers={"Link": f'<{link}>; rel="next"'}),
        )
        result = MastodonCollector(config(server)).fetch({})
        assert len(result.posts) == 1
        assert result.problems == [f"masto: next page {link} is on another origin: not followed"]
    assert len(server.hits(TAG_PATH)) == 2


def test_a_body_that_is_not_json_is_one_collector_error(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(body=b'[{"id": "1", "content": "<p>cut'))
    with pytest.raises(CollectorError, match=r"masto: .*/api/v1/timelines/tag/lumio: not JSON \("):
        MastodonCollector(config(server)).fetch({})


def test_the_access_token_is_sent_from_the_environment_and_never_shown(
    server: LocalHttpServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_TEST_MASTODON_TOKEN", "s3cret-token")
    server.route(TAG_PATH, lambda seen: Reply(401, {"error": "The access token is invalid"}))
    with pytest.raises(CollectorError) as failure:
        MastodonCollector(config(server)).fetch({})
    assert server.hits(TAG_PATH)[0].headers["authorization"] == "Bearer s3cret-token"
    assert "s3cret" not in str(failure.value) and str(failure.value).endswith("HTTP 401")


def test_search_reads_statuses_and_resumes_from_the_newest_id(server: LocalHttpServer):
    found = [status(n, text="Le service client Lumio") for n in (5, 4, 3)]
    server.route("/api/v2/search", lambda seen: Reply(
        body={"accounts": [], "hashtags": [], "statuses": found if "offset" not in seen.query else []}
    ))  # fmt: skip
    collector = MastodonCollector(config(server, hashtags=[], search=["service client lumio"]))
    first = collector.fetch({})
    assert len(first.posts) == 3 and first.cursor == {"search:service client lumio": status(5)["id"]}
    query = server.hits("/api/v2/search")[0].query
    assert (query["q"], query["type"]) == ("service client lumio", "statuses")
    collector.fetch(first.cursor)
    assert server.hits("/api/v2/search")[-1].query["min_id"] == status(5)["id"]


def test_keywords_keep_only_statuses_that_mention_them(server: LocalHttpServer):
    page = [
        status(1, text="La fibre Lumio"),
        status(2, text="Rien à voir #lumio"),
        status(3, text="fibre coupée"),
    ]
    server.route(TAG_PATH, lambda seen: Reply(body=page))
    result = MastodonCollector(config(server, keywords=["fibre"])).fetch({})
    assert sorted(p.text for p in result.posts) == ["La fibre Lumio (1)", "fibre coupée (3)"]


def test_recorded_statuses_keep_hashtags_mentions_and_links_as_written(server: LocalHttpServer):
    """Real responses (tests/fixtures/collectors/mastodon/recorded/README.md), not JSON written here."""
    hoot_tag = recorded("mastodonpy_timelines_tag_hoot.json")
    server.route("/api/v1/timelines/tag/hoot", lambda seen: Reply(body=hoot_tag))
    (hoot,) = MastodonCollector(config(server, hashtags=["hoot"], keywords=["#hoot"])).fetch({}).posts
    assert hoot.text == "#hoot (hashtag toot)" and hoot.hashtags == ["hoot"]

    reply, guardian = recorded("mastodonpy_status_reply.json"), recorded("mastodon_docs_status_example.json")
    server.route(TAG_PATH, lambda seen: Reply(body=[reply, guardian]))
    posts = {p.native_id: p for p in MastodonCollector(config(server)).fetch({}).posts}
    assert posts[reply["id"]].text == "@mastodonpy_test same!"
    # A link Mastodon splits into invisible and ellipsis spans is one URL again; paragraphs stay apart.
    assert posts[guardian["id"]].text == (
        '"I lost my inheritance with one wrong digit on my sort code"\n\n'
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    )
    by_handle = MastodonCollector(config(server, keywords=["@mastodonpy_test"])).fetch({}).posts
    assert [p.native_id for p in by_handle] == [reply["id"]]


def test_a_keyword_hashtag_keeps_a_status_that_only_the_platform_tags(server: LocalHttpServer):
    tagged_only = status(1, text="La box redémarre encore")  # #lumio is in `tags`, not in the text
    server.route(TAG_PATH, lambda seen: Reply(body=[tagged_only, status(2, text="Rien", tags=[])]))
    result = MastodonCollector(config(server, keywords=["#Lumio"])).fetch({})
    assert [p.text for p in result.posts] == ["La box redémarre encore (1)"]


def test_an_instance_over_plain_http_is_refused_unless_local():
    with pytest.raises(ValueError, match="is not https: the token is only sent over https"):
        MastodonConfig(name="m", instance="http://mastodon.example", hashtags=["lumio"])
    assert MastodonConfig(name="m", instance="http://127.0.0.1:8080", hashtags=["lumio"], local=True)


def test_the_local_timeline_is_read_and_kept_by_keywords(server: LocalHttpServer):
    path = "/api/v1/timelines/public"
    server.route(path, Timeline(server, path, [status(1, text="Panne Lumio"), status(2, text="Bonjour")]))
    collector = MastodonCollector(
        config(server, hashtags=[], public_timeline=True, local_only=True, keywords=["lumio"])
    )
    result = collector.fetch({})
    assert [p.text for p in result.posts] == ["Panne Lumio (1)"]
    assert server.hits(path)[0].query["local"] == "true"
    assert result.cursor == {"public": status(2)["id"]}
    with pytest.raises(ValueError, match="public_timeline needs `keywords`"):
        config(server, hashtags=[], public_timeline=True)


def test_replies_under_a_kept_status_are_read_as_its_thread(server: LocalHttpServer):
    opening = status(1, text="Fibre #Lumio coupée", replies_count=2)
    reply = recorded("mastodonpy_status_reply.json")  # a real reply: "@mastodonpy_test same!"
    context_path = f"/api/v1/statuses/{opening['id']}/context"
    server.route(TAG_PATH, lambda seen: Reply(body=[opening, status(2)]))
    server.route(
        context_path, lambda seen: Reply(body={"ancestors": [], "descendants": [reply, {"id": "x"}]})
    )
    result = MastodonCollector(config(server, replies=True, keywords=["fibre"])).fetch({})

    by_id = {p.native_id: p for p in result.posts}
    assert set(by_id) == {opening["id"], reply["id"]}  # the reply counts through its thread's keyword
    assert by_id[reply["id"]].thread.root_id == opening["id"]
    assert by_id[reply["id"]].thread.parent_id == reply["in_reply_to_id"]
    assert result.problems == [f"masto: {server.url}{context_path}: reply 2: no text"]
    assert len(server.hits(context_path)) == 1  # status 2 has no replies: its context is not asked for


def test_the_stream_catches_up_then_yields_updates_and_deletions(server: LocalHttpServer):
    server.route(TAG_PATH, Timeline(server, TAG_PATH, [status(1), status(2)]))
    live = [
        (None, ""),
        ("update", json.dumps(status(3, text="En direct: panne #Lumio"))),
        ("update", "{not json"),
        ("delete", status(1)["id"]),
        ("status.update", json.dumps(status(2))),
        ("update", json.dumps(status(4, text="Sans mot-clé"))),
    ]
    hold = threading.Event()
    server.route("/api/v1/streaming/hashtag", lambda seen: Reply(stream=sse(live, hold)))
    collector = MastodonCollector(config(server, keywords=["lumio"]))
    events = []
    with pytest.raises(CollectorError, match="stream closed by the server"):
        for event in collector.stream({"tag:lumio": status(1)["id"]}):
            events.append(event)
            if event.deletion:
                hold.set()  # the server closes once it has sent the rest

    posts = [e.post.native_id for e in events if e.post]
    assert posts == [status(2)["id"], status(3)["id"]]  # caught up over REST (2), then live (3)
    assert [e.deletion for e in events if e.deletion] == [status(1)["id"]]
    assert [e.problem for e in events if e.problem] == [
        "masto: stream update: not JSON (Expecting property name "
        "enclosed in double quotes at line 1 column 2)"
    ]
    assert server.hits("/api/v1/streaming/hashtag")[0].query == {"tag": "lumio"}
    assert events[-1].cursor == {"tag:lumio": status(4)["id"]}  # every update moves it, kept or not


def test_the_public_stream_keeps_only_statuses_on_one_of_the_hashtags(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(body=[]))
    server.route("/api/v1/timelines/tag/fibre", lambda seen: Reply(body=[]))
    other = copy.deepcopy(status(8, text="Autre sujet"))
    other["tags"] = [{"name": "meteo", "url": "https://mastodon.example/tags/meteo"}]
    live = [("update", json.dumps(status(7))), ("update", json.dumps(other))]
    server.route("/api/v1/streaming/public", lambda seen: Reply(stream=sse(live)))
    collector = MastodonCollector(config(server, hashtags=["lumio", "fibre"]))
    events = []
    with pytest.raises(CollectorError, match="stream closed by the server"):
        events.extend(collector.stream({}))
    assert [e.post.native_id for e in events if e.post] == [status(7)["id"]]


def test_a_stream_that_cannot_open_is_a_collector_error(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(body=[]))
    server.route("/api/v1/streaming/hashtag", lambda seen: Reply(401, {"error": "Missing access token"}))
    with pytest.raises(CollectorError, match=r"stream refused: HTTP 401"):
        list(MastodonCollector(config(server)).stream({}))


def test_the_config_needs_a_hashtag_or_a_query():
    with pytest.raises(ValueError, match="set hashtags, search or public_timeline"):
        MastodonConfig(name="m")


def test_a_stream_line_that_never_ends_is_refused(server: LocalHttpServer):
    server.route(TAG_PATH, lambda seen: Reply(body=[]))
    endless = (b"data: " + b"x" * 1024 for _ in range(200))  # 200 KB without a newline
    server.route("/api/v1/streaming/hashtag", lambda seen: Reply(stream=endless))
    collector = MastodonCollector(config(server, max_body_bytes=64 * 1024))
    with pytest.raises(CollectorError, match="stream line longer than 65536 bytes"):
        list(collector.stream({}))
