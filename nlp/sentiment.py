"""Sentiment v1: VADER lexicons (English and French) with a confidence from the score's strength.

The NLP issue replaces this with trained models; the interface (`score_sentiment`) stays.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from core.documents import Label

NEUTRAL_BAND = 0.05


@cache
def _analyzer(language: str) -> Any:
    if language == "fr":
        with warnings.catch_warnings():  # fuzzywuzzy's "slow SequenceMatcher" notice
            warnings.simplefilter("ignore")
            from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
    else:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def score_sentiment(texts: list[str], languages: list[str]) -> list[Label]:
    """positive / neutral / negative per text; unknown languages use the English lexicon."""
    labels = []
    for text, language in zip(texts, languages, strict=True):
        compound = _analyzer("fr" if language == "fr" else "en").polarity_scores(text)["compound"]
        labels.append(label_from_compound(compound))
    return labels


def label_from_compound(compound: float) -> Label:
    """Map VADER's compound score in [-1, 1] to a label and a confidence in [0.5, 1]."""
    if compound >= NEUTRAL_BAND:
        return Label(label="positive", confidence=round(0.5 + compound / 2, 3))
    if compound <= -NEUTRAL_BAND:
        return Label(label="negative", confidence=round(0.5 - compound / 2, 3))
    return Label(label="neutral", confidence=round(1.0 - abs(compound) / (2 * NEUTRAL_BAND), 3))
