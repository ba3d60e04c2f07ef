"""Fuzzing the parsers of outside data: they raise only their typed errors and never lose a good row."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import CollectorError
from collectors.files import FileCollector, FileConfig
from collectors.rss import RssCollector, RssConfig
from crm.base import CrmSourceError
from crm.files import CsvSource
from crm.sources import CsvSourceConfig

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ONE_LINE = st.text(st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), min_size=1)
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def post(i: int, text: str, when: datetime, handle: str) -> dict:
    return {"native_id": f"p{i}", "text": text, "created_at": when.isoformat(), "author": {"handle": handle}}


good_posts = st.lists(st.tuples(st.text(min_size=1), WHEN, st.text(max_size=30)), max_size=8)
bad_lines = st.lists(
    st.one_of(
        ONE_LINE.filter(lambda s: s.strip() and not s.strip().startswith("{")),
        st.builds(json.dumps, st.one_of(st.lists(st.integers()), st.integers(), st.text())),
        st.builds(lambda t: json.dumps({"text": t}), st.text()),  # an object without native_id or date
        st.builds(
            lambda i: json.dumps({"native_id": f"x{i}", "text": "t", "created_at": "not a date"}),
            st.integers(),
        ),
    ),
    max_size=6,
)


def file_source(path: Path) -> FileCollector:
    return FileCollector(FileConfig(name="import", path=path))


@FUZZ
@given(good=good_posts, bad=bad_lines, order=st.randoms(use_true_random=False))
def test_a_jsonl_import_keeps_every_good_line_and_names_every_bad_one(good, bad, order):
    rows = [json.dumps(post(i, *g), ensure_ascii=False) for i, g in enumerate(good)]
    lines = rows + bad
    order.shuffle(lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = file_source(path).fetch({})
    assert {p.native_id: p.text for p in result.posts} == {f"p{i}": g[0] for i, g in enumerate(good)}
    assert len(result.problems) == len(bad)  # every line left out is named, with its line number
    assert all(" line " in problem for problem in result.problems)


@FUZZ
@given(good=good_posts, extra=st.lists(st.text(max_size=10), min_size=1, max_size=3), broken=st.booleans())
def test_a_csv_import_keeps_every_good_row_whatever_its_text(good, extra, broken):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["native_id", "text", "created_at", "author.handle"])
    for i, (text, when, handle) in enumerate(good):
        writer.writerow([f"p{i}", text, when.isoformat(), handle])
    if broken:  # more cells than columns: one problem, the other rows stay
        writer.writerow(["x", "t", "2026-01-01T00:00:00Z", "h", *extra])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        try:
            result = file_source(path).fetch({})
        except CollectorError:
            return
    assert {p.native_id: p.text for p in result.posts} == {f"p{i}": g[0] for i, g in enumerate(good)}
    assert len(result.problems) == int(broken)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_a_file_of_arbitrary_bytes_is_problems_or_one_error_never_a_crash(raw):
    for suffix in (".jsonl", ".csv"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"posts{suffix}"
            path.write_bytes(raw)
            try:
                result = file_source(path).fetch({})
            except CollectorError:
                continue
            assert len(result.posts) <= raw.count(b"\n") + 1


def crm_source(folder: Path) -> CsvSource:
    config = CsvSourceConfig(name="crm", type="csv", mapping={"contacts": {"table": "contacts.csv"}})
    return CsvSource(config, folder)


cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@FUZZ
@given(
    header=st.lists(
        st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    rows=st.lists(st.lists(cells, min_size=1, max_size=5), max_size=8),
)
def test_a_crm_csv_yields_every_non_blank_row_or_a_crm_error(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "contacts.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")
        try:
            read = list(crm_source(Path(folder)).rows("contacts", "contacts.csv", None, None))
        except CrmSourceError:
            return
    expected = [row for row in rows if any(c.strip() for c in row)]
    assert len(read) == len(expected)
    for (_, data), row in zip(read, expected, strict=True):
        if len(row) > len(header):
            assert "__error__" in data  # said, not dropped
        else:
            assert [data[h] for h in header[: len(row)]] == row


@FUZZ
@given(raw=st.binary(max_size=300))
def test_a_crm_file_of_arbitrary_bytes_is_rows_or_a_crm_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "contacts.csv").write_bytes(raw)
        with contextlib.suppress(CrmSourceError):  # anything else fails the test
            list(crm_source(Path(folder)).rows("contacts", "contacts.csv", None, None))


class Feed:
    """A local HTTP server answering every GET with the body the test sets."""

    def __init__(self) -> None:
        self.body = b""
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    server = Feed()
    yield server
    server.server.shutdown()


def rss_collector(url: str) -> RssCollector:
    return RssCollector(RssConfig(name="feed", url=url, local=True, attempts=1, requests_per_second=1000))


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), max_size=60)


@FUZZ
@given(items=st.lists(st.tuples(XML_TEXT, XML_TEXT), max_size=8))
def test_every_item_of_a_feed_is_a_post_or_a_named_problem(feed: Feed, items):
    entries = "".join(
        f"<item><guid>urn:item:{i}</guid><title>{escape(title)}</title>"
        f"<description>{escape(text)}</description></item>"
        for i, (title, text) in enumerate(items)
    )
    head = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
    feed.body = f"{head}{entries}</channel></rss>".encode()
    result = rss_collector(feed.url).fetch({})
    ids = [p.native_id for p in result.posts]
    assert len(ids) == len(set(ids)) and set(ids) <= {f"urn:item:{i}" for i in range(len(items))}
    assert len(result.posts) + len(result.problems) == len(items)


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=400), st.builds(lambda s: f"<rss><channel>{s}".encode(), st.text(max_size=200))
    )
)
def test_an_arbitrary_answer_is_posts_problems_or_one_collector_error(feed: Feed, raw):
    feed.body = raw
    try:
        result = rss_collector(feed.url).fetch({})
    except CollectorError:
        return
    assert all(p.source == "feed" for p in result.posts)
