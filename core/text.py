"""Words as the index's standard analyzer sees them, shared by the query language and the explanations."""

from __future__ import annotations

import regex

_WORD = regex.compile(
    r"\p{Extended_Pictographic}"
    r"|[\w--\p{Extended_Pictographic}]+"
    r"(?:(?:[.'’](?=\w)|(?<=\p{L})[:·](?=\p{L})|(?<=\p{N})[,;](?=\p{N}))[\w--\p{Extended_Pictographic}]+)*",
    regex.V1,
)


def words(text: str | None) -> list[str]:
    """The lower-cased words of a text, as Elasticsearch's standard analyzer indexes them."""
    return [w.lower() for w in _WORD.findall(text or "")]
