"""`ecoute nlp train`: a small shipped fixture in, a model directory that loads and predicts out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.classifier import HEAD_FILE, INTENTS, META_FILE, EmbeddingClassifier
from nlp.train import DataError, feature_matrix, load_examples, train_files
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "nlp"
TRAIN = FIXTURES / "train_small.jsonl"


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, int, int | None]]]:
    """A model trained on the small fixture, and what its training told as it went."""
    out = tmp_path_factory.mktemp("model")
    heard: list[tuple[str, int, int | None]] = []
    train_files([TRAIN], out, progress=lambda *told: heard.append(told))
    return out, heard


@pytest.fixture(scope="module")
def model_dir(training: tuple[Path, list]) -> Path:
    return training[0]


def test_training_tells_the_texts_encoded_then_each_fit(training: tuple[Path, list]):
    _, heard = training
    assert heard == [
        ("encoding", 0, 48),
        ("encoding", 48, 48),
        *[("fitting sentiment", n, 6) for n in range(1, 7)],  # lexicon feature or not, by 3 values of C
        *[("fitting intents", n, len(INTENTS)) for n in range(len(INTENTS) + 1)],
    ]


def test_features_told_chunk_by_chunk_are_the_features_computed_at_once():
    examples = load_examples(TRAIN)
    heard: list[tuple[str, int, int | None]] = []
    told = feature_matrix(examples, ["lexicon", "cues"], batch_size=2, progress=lambda *t: heard.append(t))
    np.testing.assert_array_equal(told, feature_matrix(examples, ["lexicon", "cues"], batch_size=2))
    assert heard == [("encoding", n, 96) for n in (0, 16, 32, 48, 64, 80, 96)]


def test_training_writes_a_model_dir_that_loads_and_predicts(model_dir: Path):
    meta = json.loads((model_dir / META_FILE).read_text())
    assert meta["training_data"]["examples"] == 48 and len(meta["training_data"]["sha256"]) == 64
    assert meta["training_data"]["by_language"] == {"en": 24, "fr": 24}
    assert {"fr", "en", "all"} <= set(meta["metrics"]["cv_sentiment"])
    assert {"praise", "complaint", "question"} <= set(meta["intent_labels"])
    assert all(0.0 < t < 1.0 for t in meta["thresholds"].values())

    classifier = EmbeddingClassifier.from_dir(model_dir)
    texts = [
        "Merci beaucoup, service génial, je suis ravie !",
        "Panne depuis une semaine, c'est inadmissible",
        "Thanks a lot, the team was great and so helpful",
        "Connection down again and nobody answers, unacceptable",
    ]
    predictions = classifier.predict(texts, ["fr", "fr", "en", "en"])
    assert [p.sentiment.label for p in predictions] == ["positive", "negative", "positive", "negative"]
    assert "praise" in [i.label for i in predictions[0].intents]
    assert "complaint" in [i.label for i in predictions[3].intents]


def test_the_cli_retrains_the_same_model_from_the_same_data_and_seed(model_dir: Path, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "ecoute", "nlp", "train", "--train", str(TRAIN), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "cv sentiment fr" in result.stdout and "cv sentiment en" in result.stdout
    assert f"model written to {tmp_path}" in result.stdout
    with np.load(model_dir / HEAD_FILE) as first, np.load(tmp_path / HEAD_FILE) as second:
        for name in first.files:
            np.testing.assert_array_equal(first[name], second[name])
    assert (
        json.loads((tmp_path / META_FILE).read_text())["thresholds"]
        == json.loads((model_dir / META_FILE).read_text())["thresholds"]
    )


def test_training_refuses_the_evaluation_set(tmp_path: Path):
    with pytest.raises(DataError, match="evaluation data"):
        train_files([FIXTURES / "eval_small.jsonl"], tmp_path)
    assert not (tmp_path / HEAD_FILE).exists()


def test_a_bad_line_is_reported_with_its_file_and_line_number(tmp_path: Path):
    data = tmp_path / "train.jsonl"
    good = TRAIN.read_text().splitlines()[0]
    data.write_text(good + "\n" + good.replace('"positive"', '"furious"') + "\n")
    with pytest.raises(DataError, match=r"train\.jsonl:2: sentiment 'furious'"):
        load_examples(data)


def test_sample_mentions_read_as_training_examples_with_other_meaning_no_intent():
    examples = load_examples(ROOT / "samples" / "mentions.jsonl")
    assert len(examples) > 300 and {e.lang for e in examples} == {"fr", "en"}
    assert any(e.intents == [] for e in examples) and not any("other" in e.intents for e in examples)
