"""Train the default sentiment + intent head on labelled JSONL: reproducible, cross-validated.

    ecoute nlp train --train nlp/data/train/train.jsonl --train samples/mentions.jsonl \
        --out nlp/models/default

Each line is {"id", "lang", "text", "sentiment", "intents": [...]} (the training/eval format), or a
bundled sample mention with an `expected` block ({"sentiment", "intent"}; `other` = no intent).
Reading the files and writing the model directory are the only I/O here; the fitting is pure.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoute.errors import EcouteError
from nlp.classifier import INTENTS, SENTIMENTS, Head, embed, lexicon_scores, softmax
from nlp.language import normalise

ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = ROOT / "nlp" / "data" / "train"
SAMPLE_FILE = ROOT / "samples" / "mentions.jsonl"
DEFAULT_EVAL_FILES = (
    ROOT / "nlp" / "data" / "eval" / "eval_fr.jsonl",
    ROOT / "nlp" / "data" / "eval" / "eval_en.jsonl",
)
SEED = 13
FOLDS = 5
C_GRID = (1.0, 4.0, 16.0)
MIN_POSITIVES = 6
LEXICON_GAIN = 0.005


class DataError(EcouteError):
    """A labelled data file is missing or has a line Écoute cannot read."""


@dataclass
class Example:
    """One labelled text."""

    id: str
    lang: str
    text: str
    sentiment: str
    intents: list[str]
    phenomena: list[str] = field(default_factory=list)
    kind: str | None = None


def default_training_files() -> list[Path]:
    """Every JSONL file under nlp/data/train (sorted, so the model is reproducible) and the sample."""
    return [*sorted(TRAINING_DIR.glob("*.jsonl")), SAMPLE_FILE]


def parse_example(row: dict[str, Any]) -> Example:
    """Either format: the training/eval one, or a sample mention with an `expected` block."""
    if "expected" in row:
        intent = row["expected"].get("intent", "other")
        row = {
            "id": row.get("native_id", ""),
            "lang": row.get("language_hint") or "other",
            "text": row["text"],
            "sentiment": row["expected"]["sentiment"],
            "intents": [] if intent in (None, "other") else [intent],
        }
    sentiment = row["sentiment"]
    if sentiment not in SENTIMENTS:
        raise ValueError(f"sentiment {sentiment!r} is not one of {', '.join(SENTIMENTS)}")
    intents = list(row.get("intents") or [])
    unknown = [i for i in intents if i not in INTENTS]
    if unknown:
        raise ValueError(f"unknown intents {unknown}")
    if not isinstance(row["text"], str) or not row["text"].strip():
        raise ValueError("empty text")
    return Example(
        id=str(row.get("id", "")),
        lang=str(row.get("lang") or "other"),
        text=row["text"],
        sentiment=sentiment,
        intents=intents,
        phenomena=list(row.get("phenomena") or []),
        kind=row.get("kind"),
    )


def load_examples(path: Path) -> list[Example]:
    """All examples of one JSONL file; the first bad line stops with `path:line: reason`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            examples.append(parse_example(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{number}: {exc}") from exc
    if not examples:
        raise DataError(f"{path}: no labelled examples")
    return examples


def data_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_text(text: str) -> str:
    """What the pipeline feeds the models: URLs removed, emoji, handles and hashtags kept."""
    return normalise(text).for_models


@dataclass
class TrainResult:
    head: Head
    metrics: dict[str, Any]


def _folds(y: np.ndarray, seed: int) -> Any:
    from sklearn.model_selection import StratifiedKFold

    splits = min(FOLDS, int(np.bincount(y).min())) if len(np.unique(y)) > 1 else 2
    return StratifiedKFold(n_splits=max(2, splits), shuffle=True, random_state=seed)


def _logistic(c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)


def _oof_scores(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> np.ndarray:
    from sklearn.model_selection import cross_val_predict

    return cross_val_predict(_logistic(c, seed), x, y, cv=_folds(y, seed), method="decision_function")


def _macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="macro", labels=np.unique(gold), zero_division=0))


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the out-of-fold negative log-likelihood."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 81))
    losses = [-np.mean(np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def _platt(scores: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=100.0, random_state=seed).fit(scores.reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _best_threshold(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    best = (0.5, -1.0)
    for threshold in np.round(np.arange(0.15, 0.86, 0.05), 2):
        f1 = float(f1_score(y, proba >= threshold, zero_division=0))
        if f1 > best[1] + 1e-9:
            best = (float(threshold), f1)
    return best


def train(examples: list[Example], seed: int = SEED, lexicon: bool | None = None) -> TrainResult:
    """Fit the head; `lexicon=None` keeps the VADER feature only if cross-validation says it helps."""
    if len(examples) < 10:
        raise DataError(f"{len(examples)} examples: too few to train on")
    texts = [model_text(e.text) for e in examples]
    languages = [e.lang for e in examples]
    embeddings = embed(texts)
    with_lexicon = np.hstack([embeddings, lexicon_scores(texts, languages)])
    y = np.array([SENTIMENTS.index(e.sentiment) for e in examples])
    lang = np.array(languages)

    # Choose the lexicon feature and C by out-of-fold sentiment macro-F1.
    candidates: dict[tuple[bool, float], tuple[float, np.ndarray]] = {}
    for use_lexicon in (False, True) if lexicon is None else (lexicon,):
        x = with_lexicon if use_lexicon else embeddings
        for c in C_GRID:
            oof = _oof_scores(x, y, c, seed)
            candidates[(use_lexicon, c)] = (_macro_f1(y, oof.argmax(axis=1)), oof)
    best_without = max((v[0], k) for k, v in candidates.items() if not k[0]) if lexicon is not True else None
    best_with = max((v[0], k) for k, v in candidates.items() if k[0]) if lexicon is not False else None
    if best_with and (best_without is None or best_with[0] >= best_without[0] + LEXICON_GAIN):
        chosen = best_with[1]
    else:
        chosen = best_without[1]  # type: ignore[index]
    use_lexicon, c = chosen
    x = with_lexicon if use_lexicon else embeddings
    oof = candidates[chosen][1]
    present = sorted(set(y.tolist()))
    if len(present) < len(SENTIMENTS):
        raise DataError("the training data needs positive, neutral and negative examples")
    temperature = _temperature(oof, y)
    sentiment_model = _logistic(c, seed).fit(x, y)

    metrics: dict[str, Any] = {
        "cv_folds": FOLDS,
        "C": c,
        "temperature": round(temperature, 4),
        "lexicon_feature_cv_macro_f1": {
            "without": round(best_without[0], 4) if best_without else None,
            "with": round(best_with[0], 4) if best_with else None,
        },
        "cv_sentiment": {},
        "cv_intents": {},
        "skipped_intents": {},
    }
    predicted = oof.argmax(axis=1)
    for language in ("all", "fr", "en"):
        mask = np.ones(len(y), bool) if language == "all" else lang == language
        if mask.sum():
            metrics["cv_sentiment"][language] = {
                "n": int(mask.sum()),
                "accuracy": round(float((predicted[mask] == y[mask]).mean()), 4),
                "macro_f1": round(_macro_f1(y[mask], predicted[mask]), 4),
            }

    intent_labels, weights, biases, scales, shifts, thresholds = [], [], [], [], [], []
    for intent in INTENTS:
        target = np.array([intent in e.intents for e in examples], dtype=int)
        positives = int(target.sum())
        if positives < MIN_POSITIVES or positives > len(target) - MIN_POSITIVES:
            metrics["skipped_intents"][intent] = positives
            continue
        scores = _oof_scores(x, target, c, seed)
        scale, shift = _platt(scores, target, seed)
        threshold, f1 = _best_threshold(1 / (1 + np.exp(-(scores * scale + shift))), target)
        fitted = _logistic(c, seed).fit(x, target)
        intent_labels.append(intent)
        weights.append(fitted.coef_[0])
        biases.append(fitted.intercept_[0])
        scales.append(scale)
        shifts.append(shift)
        thresholds.append(threshold)
        metrics["cv_intents"][intent] = {"positives": positives, "f1": round(f1, 4)}

    width = x.shape[1]
    head = Head(
        sentiment_labels=list(SENTIMENTS),
        sentiment_weights=sentiment_model.coef_,
        sentiment_bias=sentiment_model.intercept_,
        temperature=temperature,
        intent_labels=intent_labels,
        intent_weights=np.array(weights).reshape(len(intent_labels), width),
        intent_bias=np.array(biases),
        platt_scale=np.array(scales),
        platt_shift=np.array(shifts),
        thresholds=np.array(thresholds),
        lexicon=use_lexicon,
    )
    return TrainResult(head, metrics)


def train_files(paths: list[Path], out: Path, seed: int = SEED, lexicon: bool | None = None) -> TrainResult:
    """Read the training files, refuse evaluation data, fit, and write the model directory."""
    for path in paths:
        if "eval" in path.resolve().parts or path.name.startswith("eval"):
            raise DataError(f"{path}: looks like evaluation data; training on it would void the eval")
    examples = [e for path in paths for e in load_examples(path)]
    result = train(examples, seed=seed, lexicon=lexicon)
    import sklearn

    meta = {
        "training_data": {
            "files": [_shown(p) for p in paths],
            "sha256": data_hash(paths),
            "examples": len(examples),
            "by_language": {
                k: sum(e.lang == k for e in examples) for k in sorted({e.lang for e in examples})
            },
        },
        "seed": seed,
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
        "metrics": result.metrics,
    }
    result.head.save(out, meta)
    return result


def _shown(path: Path) -> str:
    """A path relative to the repository when it lies inside it, so model.json reads the same anywhere."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def describe(metrics: dict[str, Any]) -> list[str]:
    """Human-readable cross-validation lines."""
    lines = []
    for language, score in metrics["cv_sentiment"].items():
        lines.append(
            f"cv sentiment {language:<3} n={score['n']:<5} accuracy={score['accuracy']:.3f} "
            f"macro-F1={score['macro_f1']:.3f}"
        )
    for intent, score in metrics["cv_intents"].items():
        lines.append(f"cv intent    {intent:<22} positives={score['positives']:<4} F1={score['f1']:.3f}")
    for intent, count in metrics["skipped_intents"].items():
        lines.append(f"skipped intent {intent}: {count} positives (needs {MIN_POSITIVES})")
    lex = metrics["lexicon_feature_cv_macro_f1"]
    lines.append(
        f"lexicon feature: cv macro-F1 without={lex['without']} with={lex['with']}; "
        f"C={metrics['C']} temperature={metrics['temperature']}"
    )
    return lines
