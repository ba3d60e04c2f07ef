"""The shipped models against real posts they were never trained on, as recorded in their model.json.

Each model's validation scores are recomputed from the shipped weights on real validation splits and must
match what training recorded (and what MODEL_CARD.md reports); the fast model must stay above its targets
and above the VADER lexicon. Training never runs here: `ecoute nlp train` rebuilds the models.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.classifier import ACCURATE_MODEL_DIR, FAST_MODEL_DIR, SENTIMENTS, load_classifier
from nlp.evaluate import lexicon_proba, real_intent_scores
from nlp.realdata import SOURCES, read_split
from nlp.train import headline, model_text, real_examples, validation_scores


def recorded(directory) -> dict:
    return json.loads((directory / "model.json").read_text(encoding="utf-8"))["metrics"]["validation"]


def scores_on(classifier, source: str) -> tuple[dict, dict]:
    examples = real_examples(source, "val")
    texts = [model_text(e.text) for e in examples]
    languages = [e.lang for e in examples]
    predictions = classifier.predict(texts, languages)
    proba = np.array([[p.sentiment_scores[s] for s in SENTIMENTS] for p in predictions])
    metric = SOURCES[source].metric
    return validation_scores(proba, examples, metric), validation_scores(
        lexicon_proba(texts, languages), examples, metric
    )


@pytest.mark.parametrize("source", ["umsab_fr", "umsab_en", "deft2017_fr", "freemobilachat_fr"])
def test_fast_model_scores_what_it_recorded_and_beats_the_lexicon(source: str):
    model, lexicon = scores_on(load_classifier(str(FAST_MODEL_DIR)), source)
    expected = recorded(FAST_MODEL_DIR)[source]
    assert headline(model) == pytest.approx(headline(expected), abs=0.01)
    assert model["ece"] == pytest.approx(expected["ece"], abs=0.01)
    assert headline(model) > headline(lexicon)
    if source in ("umsab_fr", "umsab_en"):
        assert model["macro_f1"] >= 0.62  # issue 16's target for the fast model on real tweets


def test_accurate_model_scores_what_it_recorded_on_real_french_tweets():
    model, lexicon = scores_on(load_classifier(str(ACCURATE_MODEL_DIR)), "umsab_fr")
    expected = recorded(ACCURATE_MODEL_DIR)["umsab_fr"]
    assert model["macro_f1"] == pytest.approx(expected["macro_f1"], abs=0.01)
    assert model["ece"] == pytest.approx(expected["ece"], abs=0.01)
    assert model["macro_f1"] > lexicon["macro_f1"] + 0.1


def recorded_intents(directory) -> dict:
    """Per source, the intent scores training recorded on its held-aside split (model.json)."""
    metrics = json.loads((directory / "model.json").read_text(encoding="utf-8"))["metrics"]
    return metrics["validation_intents"]


CHECKED_SUPPORT = 10  # an intent with fewer held-aside positives flips F1 on one post: not compared


@pytest.mark.parametrize("directory", [FAST_MODEL_DIR, ACCURATE_MODEL_DIR], ids=["fast", "accurate"])
def test_intents_on_real_posts_held_aside_are_what_training_recorded(directory):
    """Only the sources the model recorded are compared: a source labelled since is measured once the
    models are retrained (semeval_en_intents was added after the shipped models were trained)."""
    classifier = load_classifier(str(directory))
    recorded = recorded_intents(directory)
    scores = {source: real_intent_scores(classifier, source) for source in recorded}
    for source, expected in recorded.items():
        for intent, figures in expected.items():
            if figures["n"] < CHECKED_SUPPORT:
                continue
            assert scores[source][intent].support == figures["n"], (source, intent)
            assert scores[source][intent].f1 == pytest.approx(figures["f1"], abs=0.02), (source, intent)
    telecom = scores["freemobilachat_fr"]  # issue 16's targets
    assert telecom["complaint"].support >= 200 and telecom["complaint"].f1 >= 0.85
    assert telecom["question"].f1 >= 0.75
    assert telecom["purchase"].f1 >= 0.50


def test_every_real_validation_split_is_kept_apart_from_training():
    for source in SOURCES:
        train = {r["text"] for r in read_split(source, "train")}
        assert not train & {r["text"] for r in read_split(source, "val")}, source
