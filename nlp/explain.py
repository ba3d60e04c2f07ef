"""What sets a set of posts apart from a baseline: distinctive words by smoothed log-odds.

Pure functions (no I/O): the index fetches the posts, this says which words, hashtags, authors or
sources are far more frequent in the spike than before it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from core.text import words

SMOOTHING = 0.5
"""Added to every count (both sides), so a word never seen before scores high but not infinitely."""


@cache
def stop_words() -> frozenset[str]:
    """French and English function words, never what drives a spike (spaCy's lists, loaded once)."""
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    return frozenset(w.lower() for w in EN | FR)


def meaningful_words(text: str) -> set[str]:
    """The words of a text worth explaining with: no stop word, no number, at least 3 characters."""
    stop = stop_words()
    return {
        w
        for w in words(text)
        if len(w) > 2 and w not in stop and not any(c.isdigit() for c in w) and w.split("'")[-1] not in stop
    }


@dataclass(frozen=True)
class Distinctive:
    """One value much more frequent in the spike: in how many posts then and before, and its score."""

    value: str
    now: int
    before: int
    score: float


def distinctive(
    now: Iterable[Iterable[str]], before: Iterable[Iterable[str]], top: int = 5, min_count: int = 2
) -> list[Distinctive]:
    """The values (each counted once per post) most over-represented in `now` against `before`.

    Score: log-odds of a post holding the value in `now` minus in `before`, each count smoothed by
    SMOOTHING; only values in at least `min_count` posts of `now` and more frequent than before.
    """
    now_sets, before_sets = [set(v) for v in now], [set(v) for v in before]
    n, b = len(now_sets), len(before_sets)
    said_now: Counter[str] = Counter(v for values in now_sets for v in values)
    said_before: Counter[str] = Counter(v for values in before_sets for v in values)
    found = []
    for value, k in said_now.items():
        if k < min_count:
            continue
        j = said_before[value]
        odds_now = (k + SMOOTHING) / (n - k + SMOOTHING)
        odds_before = (j + SMOOTHING) / (b - j + SMOOTHING)
        score = math.log(odds_now) - math.log(odds_before)
        if score > 0:
            found.append(Distinctive(value, k, j, round(score, 3)))
    found.sort(key=lambda d: (-d.score, -d.now, d.value))
    return found[:top]
