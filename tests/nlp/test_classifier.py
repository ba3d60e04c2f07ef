"""The sentiment + intent classifier: the bundled default model and the transformers path (real models)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import Label, RawPost
from ecoute.config import Settings
from ecoute.engine import Engine, RunReport
from index.client import IndexNames
from index.mention_search import MentionFilter, search_mentions
from nlp.classifier import (
    SENTIMENTS,
    EmbeddingClassifier,
    ModelError,
    TransformersSentiment,
    classifier_for,
    load_classifier,
    sentiment_of_label,
)
from nlp.pipeline import brand_aware_intents
from tests.conftest import ROOT

TEXTS = [
    "Service client au top, merci beaucoup !",
    "Panne depuis trois jours, c'est honteux, je résilie",
    "Comment activer le roaming sur mon forfait ?",
    "Absolutely love the new app, great job!",
    "Internet down again, worst provider ever",
    "Does anyone know the support number?",
]
LANGUAGES = ["fr", "fr", "fr", "en", "en", "en"]


def test_default_model_gives_calibrated_sentiment_and_thresholded_intents():
    predictions = load_classifier().predict(TEXTS, LANGUAGES)
    assert len(predictions) == len(TEXTS)
    for p in predictions:
        assert set(p.sentiment_scores) == set(SENTIMENTS)
        assert all(0.0 <= v <= 1.0 for v in p.sentiment_scores.values())
        assert sum(p.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert p.sentiment.confidence == pytest.approx(max(p.sentiment_scores.values()), abs=1e-3)
        assert all(0.0 <= i.confidence <= 1.0 for i in p.intents)
        assert [i.confidence for i in p.intents] == sorted((i.confidence for i in p.intents), reverse=True)
    labels = [p.sentiment.label for p in predictions]
    assert labels == ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    assert {"complaint", "churn_risk"} <= {i.label for i in predictions[1].intents}
    assert predictions[2].top_intent.label == "question" and predictions[5].top_intent.label == "question"


def test_predictions_are_deterministic_and_independent_of_the_batch():
    classifier = load_classifier()
    first = classifier.predict(TEXTS, LANGUAGES)
    again = classifier.predict(TEXTS, LANGUAGES)
    alone = classifier.predict(TEXTS[4:5], LANGUAGES[4:5])
    assert [p.sentiment_scores for p in first] == [p.sentiment_scores for p in again]
    assert alone[0].sentiment_scores == pytest.approx(first[4].sentiment_scores, abs=1e-3)


def test_a_missing_model_directory_is_one_clear_error(tmp_path: Path):
    with pytest.raises(ModelError, match="no trained model here"):
        load_classifier(str(tmp_path))


def test_switching_to_the_brand_is_a_purchase_not_a_churn():
    churn = [Label(label="churn_risk", confidence=0.8), Label(label="question", confidence=0.6)]
    moved = brand_aware_intents(churn, "Switching to Lumio fibre next week", ["lumio"])
    assert [i.label for i in moved] == ["purchase", "question"]
    assert brand_aware_intents(churn, "Je passe chez Zéphyr, j'en ai marre", ["lumio"]) == churn


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["LABEL_0", "LABEL_1", "LABEL_2"], ["negative", "neutral", "positive"]),
        (["LABEL_0", "LABEL_1"], ["negative", "positive"]),
        (["Negative", "Neutral", "Positive"], ["negative", "neutral", "positive"]),
        (
            ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
            ["negative"] * 2 + ["neutral"] + ["positive"] * 2,
        ),
    ],
)
def test_model_label_names_map_to_the_three_sentiments(names: list[str], expected: list[str]):
    assert [sentiment_of_label(n, len(names), i) for i, n in enumerate(names)] == expected


def tiny_bert(directory: Path, id2label: dict[int, str]) -> Path:
    """A randomly initialised 2-layer BERT with a WordPiece vocabulary, saved like a hub model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["le", "la", "service", "panne", "merci", "great", "love", "worst", "down", "box", "!", "?"]
    vocab = directory / "vocab.txt"
    directory.mkdir(parents=True, exist_ok=True)
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, "##s", "##e"]) + "\n")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab.read_text().split()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(directory)
    return directory


@pytest.mark.parametrize(
    "id2label",
    [
        {0: "negative", 1: "neutral", 2: "positive"},
        {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
    ],
)
def test_transformers_backend_loads_a_local_model_and_maps_its_labels(tmp_path: Path, id2label):
    path = tiny_bert(tmp_path / "tiny", id2label)
    classifier = load_classifier(None, str(path))
    assert isinstance(classifier, TransformersSentiment)
    predictions = classifier.predict(TEXTS, LANGUAGES)
    assert len(predictions) == len(TEXTS)
    for p in predictions:
        assert p.sentiment.label in SENTIMENTS
        assert sum(p.sentiment_scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert p.sentiment.confidence == pytest.approx(max(p.sentiment_scores.values()), abs=1e-3)
    # Intents still come from the bundled default head.
    assert predictions[2].top_intent.label == "question"


def test_a_model_with_labels_that_are_not_sentiments_is_refused(tmp_path: Path):
    path = tiny_bert(tmp_path / "topics", {0: "sports", 1: "politics"})
    with pytest.raises(ModelError, match="'sports'"):
        TransformersSentiment(str(path))


def classify(*args: str, stdin: str | None = None) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "ecoute", "nlp", "classify", *args, "--config", str(ROOT / "config.yaml")],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_classify_reads_stdin_and_answers_line_by_line_in_order(tmp_path: Path):
    lines = ["Je résilie mon abonnement Lumio, c'est honteux", "", "Love the new Lumio app, great job!"]
    rows = classify(stdin="\n".join(lines) + "\n")
    assert [r["text"] for r in rows] == lines
    assert rows[1]["error"] == "empty text"
    assert (rows[0]["language"], rows[0]["sentiment"]["label"], rows[0]["intent"]["label"]) == (
        "fr",
        "negative",
        "churn_risk",
    )
    assert "churn_risk" in [i["label"] for i in rows[0]["intents"]]
    assert rows[2]["sentiment"]["label"] == "positive" and 0.5 < rows[2]["sentiment"]["confidence"] <= 1.0
    assert {"entities", "topics"} <= set(rows[2])

    file = tmp_path / "posts.txt"
    file.write_text("\n".join(reversed(lines)) + "\n")
    from_file = classify("--input", str(file))
    assert [r["text"] for r in from_file] == list(reversed(lines))


def test_the_engine_enriches_with_the_model_config_yaml_names(
    tmp_path: Path, es: Elasticsearch, names: IndexNames, settings: Settings
):
    path = tiny_bert(tmp_path / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
    configured = settings.model_copy(
        update={
            "nlp": settings.nlp.model_copy(update={"sentiment_model": str(path)}),
            "alerts": settings.alerts.model_copy(update={"rules": []}),
        }
    )
    engine = Engine(configured, es, names)
    engine.prepare()
    text = "Merci Lumio, la box marche du tonnerre depuis hier soir !"
    post = RawPost(
        source="test",
        platform="mastodon",
        native_id="m1",
        text=text,
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    assert engine.process([post], RunReport("test"))
    (hit,) = search_mentions(es, names, MentionFilter(), size=5).hits
    (expected,) = load_classifier(None, str(path)).predict([text], ["fr"])
    (default,) = load_classifier().predict([text], ["fr"])
    assert hit.mention.sentiment == expected.sentiment != default.sentiment


def test_the_configured_batch_size_reaches_the_ingest_encoder(settings: Settings):
    configured = settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"batch_size": 16})})
    classifier = classifier_for(configured)
    assert isinstance(classifier, EmbeddingClassifier) and classifier.batch_size == 16
    assert len(classifier.predict(TEXTS, LANGUAGES)) == len(TEXTS)
