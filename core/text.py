"""Text as others read it: words as the index's standard analyzer sees them (the query language and the
explanations), outside text as a terminal may show it (the command line), and outside text as Markdown
that shows it literally (the dashboard, notes written into a CRM)."""

from __future__ import annotations

import re

import regex

_WORD = regex.compile(
    r"\p{Extended_Pictographic}"
    r"|[\w--\p{Extended_Pictographic}]+"
    r"(?:(?:[.'’](?=\w)|(?<=\p{L})[:·](?=\p{L})|(?<=\p{N})[,;](?=\p{N}))[\w--\p{Extended_Pictographic}]+)*",
    regex.V1,
)

# C0 controls but tab, DEL, C1 controls, the bidi controls (marks, embeddings, overrides, isolates) and
# lone surrogates: what a terminal acts on (clears, moves, links, clipboard writes, reordering) or cannot
# print. Newline is in the first range; a multi-line field keeps it.
_NOT_FOR_TERMINALS = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r"}

_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub-flavoured Markdown turns bare `scheme://`, `www.` and `name@host` into links even when every
# character is escaped (the escapes are gone by the time autolinking looks at the text), and a CRM reads
# `@name` as a mention of its user, so an invisible word joiner goes inside each of them: the reader sees
# the same characters, and no link or mention is made.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r":(?=/)|@|www(?=\.)", re.IGNORECASE)


def words(text: str | None) -> list[str]:
    """The lower-cased words of a text, as Elasticsearch's standard analyzer indexes them."""
    return [w.lower() for w in _WORD.findall(text or "")]


def terminal_text(text: str, multiline: bool = False) -> str:
    """`text` with every character a terminal would act on written as its escape (`\\x1b`, `\\r`,
    `\\u202e`), so a post, a name or an error from outside is read, never obeyed. Tabs stay; newlines stay
    only in a `multiline` field."""

    def escape(found: re.Match[str]) -> str:
        char = found[0]
        if char == "\n" and multiline:
            return char
        code = ord(char)
        return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _NOT_FOR_TERMINALS.sub(escape, text)


def unlinked(text: str) -> str:
    """`text` with every place GFM would start an autolink (or a CRM a mention) broken by a word joiner."""
    return _AUTOLINK_START.sub(lambda m: m.group(0) + WORD_JOINER, text)


def markdown_literal(text: str) -> str:
    """`text` as Markdown that shows exactly its characters, line for line: every ASCII punctuation mark
    is backslash-escaped and every autolink or mention start broken, so no emphasis, link, image, HTML,
    mention or formula can come through."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_MARKDOWN_SPECIAL.sub(r"\\\1", unlinked(line)) for line in lines)
