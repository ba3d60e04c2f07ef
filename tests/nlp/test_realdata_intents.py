"""semeval_en_intents: English SemEval tweets labelled for intents, on the real files as shipped.

The selection was fixed before labelling (selection.json) and must reproduce from semeval_en; each row is
a semeval_en tweet with its SemEval sentiment untouched; the held-aside split is never trained on, for
intents or for sentiment; the intent heads read the posts, the sentiment head does not read them twice.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from nlp.classifier import INTENTS
from nlp.realdata import (
    INTENT_SELECTION,
    REAL_DIR,
    SOURCES,
    intent_retrievable,
    intent_sources,
    read_split,
    retrieved_ids,
    select_intent_posts,
    sentiment_sources,
)
from nlp.train import RECIPES, real_examples

SOURCE = "semeval_en_intents"


def selection() -> dict:
    return json.loads((REAL_DIR / SOURCE / "selection.json").read_text("utf-8"))


def test_the_selection_on_disk_is_the_seeded_one_it_records():
    assert select_intent_posts() == selection()


@pytest.mark.parametrize("split", ["val", "train"])
def test_each_split_is_half_retrieved_half_random_from_the_same_semeval_split(split: str):
    seed, retrieved, randoms = INTENT_SELECTION[split]
    chosen = selection()[split]
    assert chosen["seed"] == seed
    assert Counter(chosen["method"].values()) == {"retrieval:keywords": retrieved, "random": randoms}
    semeval = {r["id"]: r for r in read_split("semeval_en", split)}
    assert set(chosen["method"]) <= set(semeval)
    for row_id, method in chosen["method"].items():
        if method.startswith("retrieval"):
            assert intent_retrievable(semeval[row_id]["text"]), row_id


@pytest.mark.parametrize("split", ["val", "train"])
def test_rows_are_the_selected_semeval_tweets_with_their_sentiment_and_hand_labelled_intents(split: str):
    rows = read_split(SOURCE, split)
    assert [r["id"] for r in rows] == list(selection()[split]["method"])
    semeval = {r["id"]: r for r in read_split("semeval_en", split)}
    for row in rows:
        original = semeval[row["id"]]
        assert (row["text"], row["sentiment"]) == (original["text"], original["sentiment"])
        assert row["lang"] == "en"
        assert isinstance(row["intents"], list) and set(row["intents"]) <= set(INTENTS), row["id"]
        assert len(set(row["intents"])) == len(row["intents"]), row["id"]
        assert not row["doubtful"] or row.get("note"), row["id"]  # every doubtful post says what was settled


def test_the_held_aside_posts_are_in_no_training_split():
    held = {r["text"] for r in read_split(SOURCE, "val")}
    assert len(held) == 300
    for source in SOURCES:
        assert not held & {r["text"] for r in read_split(source, "train")}, source


def test_retrieved_posts_are_marked_so_thresholds_are_tuned_on_the_random_ones():
    train = real_examples(SOURCE, "train")
    assert len(train) == 600 and all(e.real and e.intents_labelled and e.lang == "en" for e in train)
    assert sum(e.retrieved for e in train) == 300
    assert sum(e.retrieved for e in real_examples(SOURCE, "val")) == 150
    assert len(retrieved_ids(SOURCE)) == 450
    assert len(retrieved_ids("freemobilachat_fr")) == 356 + 62  # rounds 2 and 3, read as before


def test_intents_are_reported_per_source_and_sentiment_is_not_counted_twice():
    assert intent_sources() == ["freemobilachat_fr", SOURCE]
    assert SOURCES[SOURCE].sentiment_of == "semeval_en"
    assert SOURCE not in sentiment_sources() and "semeval_en" in sentiment_sources()
    for recipe in RECIPES.values():
        assert SOURCE not in recipe.weights
