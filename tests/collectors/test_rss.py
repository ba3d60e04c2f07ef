"""RSS/Atom collector against a real local server replaying feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.base import CollectorError
from collectors.rss import RssCollector, RssConfig
from tests.collectors.conftest import FIXTURES, Reply, ScriptedServer, SeenRequest, fixture_text

RSS_TYPE = "application/rss+xml; charset=utf-8"


def collector(server: ScriptedServer, path: str = "/feed.xml", **overrides) -> RssCollector:
    fields = {"attempts": 2, "max_wait_seconds": 0.05, "requests_per_second": 1000, **overrides}
    return RssCollector(RssConfig(name="telecoms", url=f"{server.url}{path}", local=True, **fields))


def test_rss2_items_become_posts_with_clean_text_and_safe_links(http_server: ScriptedServer):
    http_server.script("/feed.xml", Reply(200, fixture_text("rss", "rss2.xml"), content_type=RSS_TYPE))
    result = collector(http_server).fetch({})
    by_id = {p.native_id: p for p in result.posts}
    assert {"jdt-48213", "jdt-48214", "https://telecoms.example/2026/12/arcadia-prix"} < set(by_id)
    launch = by_id["jdt-48213"]
    assert launch.title == "Lumio lance une offre fibre à 2 Gb/s"
    # content:encoded wins over the description; markup is gone, text stays
    assert launch.text == "L'opérateur Lumio annonce une offre fibre à 2 Gb/s pour 34,99 €."
    assert "<" not in launch.text and "onerror" not in launch.text
    assert launch.url == "https://telecoms.example/2026/11/lumio-fibre-2g"
    assert launch.author.display_name == "Claire Besson"
    assert launch.language_hint == "fr"
    assert launch.created_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert launch.platform == "news" and launch.source == "telecoms"
    # a javascript: link is dropped, the item itself is kept
    assert by_id["jdt-48214"].url is None
    assert by_id["jdt-48214"].text.startswith("Une coupure touche")


def test_an_item_without_guid_or_link_is_kept_under_the_same_id_every_run(http_server: ScriptedServer):
    http_server.route(
        "/feed.xml", lambda _: Reply(200, fixture_text("rss", "rss2.xml"), content_type=RSS_TYPE)
    )
    first, second = collector(http_server).fetch({}), collector(http_server).fetch({})
    assert first.problems == [] and len(first.posts) == 4
    (untitled,) = [p for p in first.posts if p.native_id.startswith("content:")]
    assert untitled.text == "Un article sans titre, sans lien et sans identifiant." and untitled.url is None
    assert not untitled.dated and all(p.dated for p in first.posts if p is not untitled)
    assert [p.native_id for p in second.posts] == [p.native_id for p in first.posts]


def test_a_feed_whose_bytes_do_not_fit_its_encoding_is_read_in_the_right_one(http_server: ScriptedServer):
    """feedparser's own test feed (tests/fixtures/collectors/rss/recorded/README.md): windows-1255 bytes,
    no encoding declared, so the parser's fallback (windows-1252) would index Latin-1 letters."""
    body = (FIXTURES / "rss" / "recorded" / "feedparser_chardet_windows1255.xml").read_bytes()
    http_server.script("/feed.xml", Reply(200, body, content_type="application/rss+xml"))
    result = collector(http_server).fetch({})
    (post,) = result.posts
    assert post.text.startswith("האם תדפיס נייר של אתר אינטרנט")
    assert result.problems == [
        f"telecoms: {http_server.url}/feed.xml: the feed's declared encoding does not fit its bytes; "
        "read as cp1255 (detected)"
    ]


def test_atom_entries_with_html_titles(http_server: ScriptedServer):
    http_server.script(
        "/atom", Reply(200, fixture_text("rss", "atom.xml"), content_type="application/atom+xml")
    )
    result = collector(http_server, "/atom").fetch({})
    assert result.problems == []
    first, second = result.posts
    assert first.native_id == "tag:blog.lumio.example,2026:post-901"
    assert first.title == "Planned maintenance tonight"
    assert first.text == "Lumio customers in Lyon may see short outages between 01:00 and 03:00."
    assert first.author.display_name == "Lumio Network Team"
    assert first.created_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert first.language_hint == "en"
    # no <published>: the entry's <updated> date is used
    assert second.created_at == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert second.text == "Dark mode and a faster invoice page."


def test_conditional_get_304_keeps_the_cursor_and_returns_nothing(http_server: ScriptedServer):
    etag, modified = '"v1-48214"', "Wed, 02 Dec 2026 07:00:00 GMT"
    feed = fixture_text("rss", "rss2.xml")

    def answer(request: SeenRequest) -> Reply:
        if request.header("If-None-Match") == etag:
            return Reply(304)
        return Reply(200, feed, headers={"ETag": etag, "Last-Modified": modified}, content_type=RSS_TYPE)

    http_server.route("/feed.xml", answer)
    rss = collector(http_server)
    first = rss.fetch({})
    assert len(first.posts) == 4
    assert first.cursor == {"etag": etag, "modified": modified}
    second = rss.fetch(first.cursor)
    assert second.posts == [] and second.problems == []
    assert second.cursor == first.cursor
    sent = http_server.seen("/feed.xml")[1]
    assert sent.header("If-None-Match") == etag and sent.header("If-Modified-Since") == modified


def test_keyword_filter_keeps_only_items_that_mention_a_keyword(http_server: ScriptedServer):
    http_server.script("/feed.xml", Reply(200, fixture_text("rss", "rss2.xml"), content_type=RSS_TYPE))
    result = collector(http_server, keywords=["LUMIO"]).fetch({})
    # the Arcadia item does not mention Lumio: filtered out, which is not a problem
    assert sorted(p.native_id for p in result.posts) == ["jdt-48213", "jdt-48214"]
    assert result.problems == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00\x01 not xml <<<", "not well-formed"),
        (b"<html><body><p>Our feed moved</p></body></html>", "no feed element"),
    ],
    ids=["garbage", "html-page"],
)
def test_a_body_that_is_not_a_feed_is_one_collector_error(http_server: ScriptedServer, body, reason):
    http_server.script("/feed.xml", Reply(200, body, content_type="text/html"))
    with pytest.raises(CollectorError, match=f"not an RSS/Atom feed \\(.*{reason}"):
        collector(http_server).fetch({})


def test_a_truncated_feed_keeps_the_items_read_and_counts_the_break(http_server: ScriptedServer):
    feed = fixture_text("rss", "rss2.xml")
    truncated = feed[: feed.index("<title>Arcadia")]
    http_server.script("/feed.xml", Reply(200, truncated, content_type=RSS_TYPE))
    result = collector(http_server).fetch({})
    assert {"jdt-48213", "jdt-48214"} <= {p.native_id for p in result.posts}
    assert any("malformed feed" in problem for problem in result.problems)


def test_server_errors_exhaust_retries_into_one_error(http_server: ScriptedServer):
    http_server.script("/feed.xml", Reply(502, "bad gateway"))
    with pytest.raises(CollectorError, match="HTTP 502 after 2 attempts"):
        collector(http_server).fetch({})
    http_server.script("/missing", Reply(404, "no"))
    with pytest.raises(CollectorError, match="HTTP 404"):
        collector(http_server, "/missing").fetch({})
