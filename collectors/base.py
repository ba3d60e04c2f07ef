"""The collector interface: a collector yields raw posts and never writes anywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from bs4 import BeautifulSoup, NavigableString
from pydantic import BaseModel, ConfigDict, Field

from core.documents import RawPost
from core.errors import EcouteError


class CollectorError(EcouteError):
    """A source could not be read at all (not one bad item: those are problems)."""

    def __init__(self, source: str, where: str, reason: str) -> None:
        super().__init__(f"{source}: {where}: {reason}")
        self.source, self.where, self.reason = source, where, reason


Cursor = dict[str, str]


@dataclass
class FetchResult:
    """What one run of a collector produced.

    `cursor` is stored only after `posts` are safely indexed; `problems` lists each
    item that was skipped, one line each, so nothing is dropped silently. `deletions` are the
    native ids of posts the platform reported deleted: their mentions must be removed.
    """

    posts: list[RawPost] = field(default_factory=list)
    cursor: Cursor = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)


class SourceConfig(BaseModel):
    """Fields every source block in config.yaml has."""

    model_config = ConfigDict(extra="forbid")

    name: str
    enabled: bool = True
    interval_seconds: int = Field(default=900, ge=5)
    jitter_seconds: int | None = Field(
        default=None,
        ge=0,
        description="random delay added to each run (default: a tenth of the interval, 60 s at most)",
    )
    keywords: list[str] = Field(
        default_factory=list, description="keep only items mentioning one of these (empty: keep all)"
    )

    def jitter(self) -> int:
        """Seconds of random delay per run, so many processes and sources do not all start at once."""
        return (
            self.jitter_seconds if self.jitter_seconds is not None else min(self.interval_seconds // 10, 60)
        )


class Collector(Protocol):
    """One source family. Built from its config block; `fetch` has no side effects."""

    type: ClassVar[str]

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        """Return the posts newer than `cursor`, the next cursor and per-item problems.

        `since` (from `ecoute collect --since`) asks for history from that time where the API
        allows it; the engine then passes an empty cursor.
        """
        ...


def mentions_keyword(post: RawPost, keywords: list[str], thread_title: str | None = None) -> bool:
    """True when no keyword filter is set or the title/text contains one (case-insensitive), or a `#tag`
    keyword names one of the platform's own hashtags.

    A reply in a forum or comment thread also counts when `thread_title` (the title of the
    post that opened the thread) contains one: the conversation is about the keyword.
    """
    if not keywords:
        return True
    haystack = f"{post.title or ''}\n{thread_title or ''}\n{post.text}".casefold()
    tags = {f"#{tag}".casefold() for tag in post.hashtags}
    return any(k.casefold() in haystack or k.casefold() in tags for k in keywords)


def flatten_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Turn flat CSV columns such as `author.handle` into nested dicts."""
    nested: dict[str, Any] = {}
    for key, value in row.items():
        if value in (None, ""):
            continue
        parts = key.split(".")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


# Blocks that stand as paragraphs get a blank line around them; the others start a new line.
PARAGRAPH_TAGS = frozenset(
    ["p", "blockquote", "pre", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6"]
)
LINE_TAGS = frozenset(
    [
        "br",
        "div",
        "li",
        "dt",
        "dd",
        "tr",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "nav",
        "main",
        "figure",
        "figcaption",
        "address",
        "details",
        "summary",
        "form",
        "fieldset",
        "legend",
        "caption",
    ]
)
# HTML collapses ASCII whitespace only: a no-break space is the author's and stays.
HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")


class _Break(NavigableString):
    """A line break put in the tree at a block's edge; `newlines` is how many lines it ends at least."""

    newlines = 1


class _ParagraphBreak(_Break):
    newlines = 2


def plain_text(html: str | None) -> str:
    """The text of an HTML fragment as the author wrote it (feed and API fields often carry markup).

    Inline runs stay together (`#<span>tag</span>` is `#tag`, a link split in spans is one URL), blocks
    and `<br>` become line breaks, a `<pre>` keeps its own spacing; script, style and comments are dropped.
    """
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    # script and style bodies are code, not words anyone reads on the page
    for hidden in soup(["script", "style", "template"]):
        hidden.decompose()
    for block in soup.find_all(PARAGRAPH_TAGS | LINE_TAGS):
        kind = _ParagraphBreak if block.name in PARAGRAPH_TAGS else _Break
        if block.name in ("br", "hr"):
            block.replace_with(kind(""))
            continue
        block.insert(0, kind(""))
        block.append(kind(""))
    out: list[str] = []
    for node in soup.descendants:
        if isinstance(node, _Break):
            _end_lines(out, node.newlines)
        elif type(node) is NavigableString:  # not a comment, CDATA or doctype
            if node.find_parent("pre") is not None:
                out.append(str(node))
            else:
                _add_text(out, HTML_WHITESPACE.sub(" ", str(node)))
    return "".join(out).strip()


def _add_text(out: list[str], text: str) -> None:
    """Append `text`, without a space at the start of a line or two spaces in a row."""
    if not out or out[-1].endswith(("\n", " ")):
        text = text.lstrip(" ")
    if text:
        out.append(text)


def _end_lines(out: list[str], newlines: int) -> None:
    """End the current line so that at least `newlines` line breaks separate what comes next."""
    if not out:
        return
    while out and out[-1].endswith(" "):
        out[-1] = out[-1].rstrip(" ")
        if not out[-1]:
            out.pop()
    have = len("".join(out[-3:])) - len("".join(out[-3:]).rstrip("\n"))
    if out and newlines > have:
        out.append("\n" * (newlines - have))


@dataclass
class SecondMark:
    """The newest epoch second read for one query, and the ids read at exactly that second.

    For APIs whose date filter is inclusive (>=): the next run asks from that second again and
    skips the ids already read there, so an item published late within the second is not missed.
    """

    at: int = 0
    ids: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, cursor: Cursor, key: str) -> SecondMark:
        return cls(
            int(cursor.get(f"{key}|created") or 0), set(filter(None, cursor.get(f"{key}|ids", "").split(",")))
        )

    def see(self, at: int, item_id: str) -> None:
        """Account for one item read: a newer second starts a new set of ids."""
        if at > self.at:
            self.at, self.ids = at, set()
        if at == self.at:
            self.ids.add(item_id)

    def store(self, cursor: Cursor, key: str) -> None:
        if self.at:
            cursor[f"{key}|created"] = str(self.at)
            cursor[f"{key}|ids"] = ",".join(sorted(self.ids))
