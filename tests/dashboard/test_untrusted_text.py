"""Text from posts and the CRM stays text: one hostile post, rendered by every page and every export, makes
no link but the post's own address, and no spreadsheet formula."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pandas as pd
from elasticsearch import Elasticsearch
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from core.documents import Alert, CustomerLink, Entity, document_id
from index.alerts import create_alerts
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from index.reviews import queue_link_reviews
from tests.dashboard.helpers import ADMIN, APP, downloads, sign_in
from tests.factories import make_customer, make_mention

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet program runs or strips first
PHISH = "phish.example"
POST_URL = "https://social.example/@evil/1"  # the post's own address: the one link expected
HOSTILE_CUSTOMER = "C-666"

# What GitHub-flavoured Markdown (remark-gfm, as Streamlit's front end uses it) turns into a link without
# any Markdown syntax: it looks at the text after escapes are undone, so backslashes do not stop it.
_GFM_URL = re.compile(r"(?:https?://|www(?=\.))[-.\w]+[^ \t\r\n]*", re.IGNORECASE | re.ASCII)
_GFM_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.ASCII)
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
# Elements whose body Streamlit renders as Markdown, and elements it shows as plain text or data.
MARKDOWN_BODIES = {
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "error",
    "warning",
    "info",
    "success",
}
PLAIN = {"text", "code", "dataframe", "arrow_data_frame", "arrow_vega_lite_chart", "vega_lite_chart", "json"}


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.targets += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.words.append(data)


def gfm_links(markdown: str) -> list[str]:
    """Every link a reader could click in `markdown` as Streamlit renders it."""
    parser = _Anchors()
    parser.feed(_MARKDOWN.renderInline(markdown))
    text = html.unescape("".join(parser.words))
    return [*parser.targets, *_GFM_URL.findall(text), *_GFM_EMAIL.findall(text)]


def _markdown_sources(node) -> list[str]:
    """The Markdown a node (and what it holds) hands to the front end: bodies, labels, help, options."""
    found: list[str] = []
    kind = getattr(node, "type", "")
    proto = getattr(node, "proto", None)
    if kind in MARKDOWN_BODIES:
        found.append(node.proto.body)
    elif proto is not None and kind not in PLAIN:
        for descriptor, value in proto.ListFields():
            if descriptor.name in ("label", "help") and isinstance(value, str):
                found.append(value)
            elif descriptor.name == "options" and kind not in ("selectbox", "multiselect"):
                found += [v if isinstance(v, str) else getattr(v, "content", "") for v in value]
            elif hasattr(value, "ListFields") and isinstance(getattr(value, "label", None), str):
                found.append(value.label)  # an expander's or a tab's label
    for child in getattr(node, "children", {}).values():
        found += _markdown_sources(child)
    return found


def clickable(at: AppTest) -> list[str]:
    """Every link target on the page: link buttons, outside page links, and what Markdown makes a link."""
    targets = [b.proto.url for b in at.get("link_button")]
    targets += [p.proto.page for p in at.get("page_link") if "//" in p.proto.page]
    for source in _markdown_sources(at._tree):
        targets += gfm_links(source)
    return targets


def formula_cells(content: bytes) -> list[str]:
    """The cells of an export a spreadsheet program would run (CSV, XLSX, or the HTML report's tables)."""
    if content.startswith(b"PK"):
        book = load_workbook(io.BytesIO(content))
        cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
        archive = zipfile.ZipFile(io.BytesIO(content))
        raw = b"".join(archive.read(name) for name in archive.namelist())
        runnable = [str(c.value) for c in cells if c.data_type == "f"]
        return runnable + (["<f> element"] if b"<f>" in raw or b"<f " in raw else [])
    text = content.decode("utf-8-sig")
    if text.lstrip().lower().startswith("<!doctype html"):
        cells = [html.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", text, re.DOTALL)]
    else:
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    return [c for c in cells if c.startswith(FORMULA_STARTS)]


def plant_hostile_post(es: Elasticsearch, names: IndexNames) -> None:
    """One crafted post (linked to a crafted CRM record), an alert about it and a link proposal from it."""
    upsert_customers(
        es,
        names,
        [
            make_customer(
                HOSTILE_CUSTOMER,
                full_name="[Julie](https://phish.example/crm) www.phish.example",
                company='=HYPERLINK("https://phish.example","Boulangerie")',
                email="julie@phish.example",
                owner_email=ADMIN,
            )
        ],
    )
    now = datetime.now(UTC)
    author = {"handle": "www.phish.example/x", "display_name": "[click](https://phish.example) mailto:a@b.c"}
    hostile = make_mention(
        "evil",
        url=POST_URL,
        author={**author, "followers": 10_000},
        title="https://phish.example",
        text='=HYPERLINK("https://phish.example","Lumio")',
        customer_id=HOSTILE_CUSTOMER,
        link=CustomerLink(
            customer_id=HOSTILE_CUSTOMER,
            method="handle",
            confidence=1.0,
            reason="@www.phish.example/x on record",
        ),
        entities=[Entity(text="https://phish.example", label="ORG")],
        topics=["Lumio", "+cmd|' /C calc'!A0"],
        created_at=now - timedelta(hours=1),
    )
    proposed = make_mention(
        "evil-proposed",
        url=POST_URL,
        author={"handle": "evil2@phish.example", "display_name": "@SUM(1+1) www.phish.example/login"},
        title="mailto:a@b.c",
        text="-2+3 https://phish.example",
        link_proposal=CustomerLink(
            customer_id=HOSTILE_CUSTOMER, method="fuzzy", confidence=0.8, reason="see https://phish.example"
        ),
        created_at=now - timedelta(hours=2),
    )
    index_mentions(es, names, [hostile, proposed])
    queue_link_reviews(es, names, [proposed])
    create_alerts(
        es,
        names,
        [
            Alert(
                id=document_id("alert", "evil"),
                rule="negative-by-customer",
                mention_id=hostile.id,
                mention_ids=[hostile.id],
                customer_id=HOSTILE_CUSTOMER,
                recipients=[ADMIN],
                created_at=now - timedelta(minutes=30),
                summary="@SUM(1+1) www.phish.example [click](https://phish.example)",
                details={"explanation": ["authors: @www.phish.example/x mailto:a@b.c"]},
                sentiment="negative",
                intent="complaint",
                url=POST_URL,
            )
        ],
    )


def test_gfm_links_even_escaped_text_which_is_why_escaping_is_not_enough():
    assert gfm_links(r"see https\:\/\/phish\.example and a\@b\.c") == ["https://phish.example", "a@b.c"]


def test_a_hostile_post_makes_no_link_and_no_formula_on_any_page_or_export(
    es: Elasticsearch, names: IndexNames, settings_file, monkeypatch, recorded_media
):
    plant_hostile_post(es, names)
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=30).run(timeout=30), ADMIN)
    visits = [
        ("inbox", {}, None),
        ("insights", {}, None),
        ("customers", {"customer": HOSTILE_CUSTOMER}, None),
        ("customers", {}, "phish"),  # the search list and its export
        ("alerts", {}, None),
        ("alerts", {"alert": document_id("alert", "evil")}, None),
        ("review", {}, None),
        ("admin", {}, None),
    ]
    hostile_links: dict[str, list[str]] = {}
    formulas: dict[str, list[str]] = {}
    exports = 0
    for page, params, search in visits:
        at.query_params.clear()
        at.query_params.update(params)
        at.switch_page(f"pages/{page}.py").run(timeout=30)
        if search:
            at.text_input(key="customer_search").input(search).run(timeout=30)
        if page == "inbox":  # the inbox builds its exports (every match) when asked
            at.toggle(key="inbox_export").set_value(True).run(timeout=30)
        assert not at.exception, (page, [e.value for e in at.exception])
        where = f"{page}?{params or search or ''}"
        links = clickable(at)
        hostile_links[where] = [link for link in links if PHISH in link or "a@b.c" in link]
        if page == "inbox":
            assert POST_URL in links  # the post's own address stays one click away
        for label, content in downloads(at).items():
            exports += 1
            formulas[f"{where} {label}"] = formula_cells(content)
            assert b"<a " not in content.lower() and b"href" not in content.lower()
    assert hostile_links == {where: [] for where in hostile_links}
    assert formulas == {where: [] for where in formulas}
    assert exports >= 8  # inbox CSV and XLSX, insights CSVs and HTML report, customers, alerts


def test_the_xlsx_export_keeps_every_text_exactly_and_runs_none():
    from dashboard.export import xlsx_bytes  # here, so the other tests of this file run without it

    texts = ['=HYPERLINK("https://phish.example")', "+33 6 11 22 33 44", "-2+3", "@SUM(1)", "\tcmd", "plain"]
    frame = pd.DataFrame({"text": texts, "followers": [1, 2, 3, 4, 5, 6], "note": ["a\x00b", *[None] * 5]})
    sheet = load_workbook(io.BytesIO(xlsx_bytes(frame))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == texts  # as written: no added apostrophe, nothing lost
    assert [row[1] for row in rows] == [1, 2, 3, 4, 5, 6]  # numbers stay numbers
    assert rows[0][2] == "a\ufffdb"  # a control character a workbook cannot hold is replaced, not fatal
    assert {c.data_type for row in sheet.iter_rows(min_row=2, max_col=1) for c in row} == {"s"}
    assert [c.quotePrefix for row in sheet.iter_rows(min_row=2, max_col=1) for c in row] == [True] * 5 + [
        False
    ]
