"""How big a person's search may be before it reaches the index.

Each word of a search becomes one clause per searched field, a wildcard (`*`) or fuzzy (`~`) word expands
over the whole term dictionary, and each parenthesis is a level of recursion in the index's parser: a
10,800-character search ran for 30 s and then crashed the embedded stand-in with a stack overflow. Every
search text is checked here before it is turned into a query. The limits are sized on the stand-in with
`benchmarks/search_bounds.py`: each word costs it about 0.35 s of CPU on 5,000 mentions, and the costliest
search accepted about 1.5 s.

An Inbox search is in the query language of `index.query_language` (the one alert rules use): its
length is checked before it is read, then its words, wildcards and nesting on the parsed tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import regex

from core.errors import EcouteError
from index.query_language import Node, parse_measured, size

# Counted the way the index splits words, or more: each run of letters/digits is a word, and so is each
# ideograph, kana, emoji or other symbol (the standard tokenizer makes one term of each).
_TERM = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Extended_Pictographic}\p{So}]"
    r"|[\w--[\p{Han}\p{Hiragana}\p{Katakana}\p{Extended_Pictographic}]]+",
    regex.V1,
)

Bound = Literal["chars", "terms", "wildcards", "depth"]


@dataclass(frozen=True)
class SearchBounds:
    """The most a search may hold; `terms` counts every word, quoted or not, OR'ed or not."""

    chars: int = 200
    terms: int = 4
    wildcards: int = 2
    depth: int = 3


INBOX_SEARCH = SearchBounds()
"""The Inbox's search (and saved searches, exports): the query language, measured on its parsed tree."""

CUSTOMER_SEARCH = SearchBounds(terms=8, wildcards=200, depth=200)
"""The customer search: plain words, so only length and words count; an address such as
jean-pierre.dupont@mastodon.example is 5 words."""


class SearchTooComplexError(EcouteError):
    """A search over one of its bounds; `bound` names which, `found` and `limit` say by how much."""

    def __init__(self, bound: Bound, found: int, limit: int) -> None:
        self.bound, self.found, self.limit = bound, found, limit
        what = {
            "chars": "characters",
            "terms": "words",
            "wildcards": "wildcards (*)",
            "depth": "levels of nested parentheses",
        }[bound]
        super().__init__(f"search too complex: {found:,} {what}, at most {limit:,}; shorten it")


def search_size(text: str) -> dict[Bound, int]:
    """The characters, words, wildcards and deepest nesting of parentheses of a search."""
    depth = deepest = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char == ")":
            depth = max(depth - 1, 0)
    return {
        "chars": len(text),
        "terms": len(_TERM.findall(text)),
        "wildcards": text.count("*") + text.count("~"),
        "depth": deepest,
    }


def check_search(text: str, bounds: SearchBounds = INBOX_SEARCH) -> str:
    """The search, stripped, if it is within `bounds`; otherwise SearchTooComplexError for the first
    bound it is over (length first, so a huge search is refused before it is even read)."""
    text = text.strip()
    if len(text) > bounds.chars:
        raise SearchTooComplexError("chars", len(text), bounds.chars)
    size = search_size(text)
    for bound in ("terms", "wildcards", "depth"):
        limit = getattr(bounds, bound)
        if size[bound] > limit:
            raise SearchTooComplexError(bound, size[bound], limit)
    return text


def parse_search(text: str, bounds: SearchBounds = INBOX_SEARCH) -> Node | None:
    """The parsed tree of a search (None when it is blank), if it is within `bounds`.

    Too long: SearchTooComplexError before it is read. Unreadable: QuerySyntaxError with the position.
    Then its words, wildcards and nesting are counted on the tree, as the index will run it.
    """
    text = text.strip()
    if len(text) > bounds.chars:
        raise SearchTooComplexError("chars", len(text), bounds.chars)
    if not text:
        return None
    tree, depth = parse_measured(text)
    terms, wildcards = size(tree)
    for bound, found in (("terms", terms), ("wildcards", wildcards), ("depth", depth)):
        limit = getattr(bounds, bound)
        if found > limit:
            raise SearchTooComplexError(bound, found, limit)  # type: ignore[arg-type]
    return tree
