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

from core.errors import EcouteError
from core.progress import Progress, counted
from nlp.classifier import (
    INTENTS,
    SENTIMENTS,
    SHIPPED_MODELS,
    Head,
    feature_columns,
    lexicon_scores,
    softmax,
)
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
ENCODING_CHUNK = 8  # batches encoded between two progress reports


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
    real: bool = False  # written by real people on a real platform (nlp/data/real), not by the team
    intents_labelled: bool = True  # False: the source labels sentiment only, so `intents` says nothing
    retrieved: bool = False  # picked by keywords (selection.json `round<n>`, `method`), not at random


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


def _logistic(c: float, seed: int, class_weight: str | None = "balanced") -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight=class_weight, random_state=seed)


def _oof_scores(
    x: np.ndarray,
    y: np.ndarray,
    c: float,
    seed: int,
    weight: np.ndarray | None = None,
    class_weight: str | None = "balanced",
) -> np.ndarray:
    from sklearn.model_selection import cross_val_predict

    params = {"sample_weight": weight} if weight is not None else None
    return cross_val_predict(
        _logistic(c, seed, class_weight), x, y, cv=_folds(y, seed), method="decision_function", params=params
    )


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


def train(
    examples: list[Example], seed: int = SEED, lexicon: bool | None = None, progress: Progress | None = None
) -> TrainResult:
    """Fit the head; `lexicon=None` keeps the VADER feature only if cross-validation says it helps.

    `progress` hears the texts encoded ("encoding"), then the sentiment candidates fitted ("fitting
    sentiment") and the intents fitted ("fitting intents").
    """
    if len(examples) < 10:
        raise DataError(f"{len(examples)} examples: too few to train on")
    texts = [model_text(e.text) for e in examples]
    languages = [e.lang for e in examples]
    embeddings = feature_matrix(examples, ["use"], progress=progress)
    with_lexicon = np.hstack([embeddings, lexicon_scores(texts, languages)])
    y = np.array([SENTIMENTS.index(e.sentiment) for e in examples])
    lang = np.array(languages)

    # Choose the lexicon feature and C by out-of-fold sentiment macro-F1.
    candidates: dict[tuple[bool, float], tuple[float, np.ndarray]] = {}
    choices = (False, True) if lexicon is None else (lexicon,)
    for use_lexicon in choices:
        x = with_lexicon if use_lexicon else embeddings
        for c in C_GRID:
            oof = _oof_scores(x, y, c, seed)
            candidates[(use_lexicon, c)] = (_macro_f1(y, oof.argmax(axis=1)), oof)
            if progress is not None:
                progress("fitting sentiment", len(candidates), len(choices) * len(C_GRID))
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

    head = Head.without_intents(
        x.shape[1],
        sentiment_weights=sentiment_model.coef_,
        sentiment_bias=sentiment_model.intercept_,
        temperature=temperature,
        features=["use", "lexicon"] if use_lexicon else ["use"],
    )
    _fit_intents(head, x, examples, seed, metrics, c, progress, "fitting intents")
    return TrainResult(head, metrics)


def train_files(
    paths: list[Path],
    out: Path,
    seed: int = SEED,
    lexicon: bool | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Read the training files, refuse evaluation data, fit (telling `progress`, as `train` does), and
    write the model directory."""
    for path in paths:
        if "eval" in path.resolve().parts or path.name.startswith("eval"):
            raise DataError(f"{path}: looks like evaluation data; training on it would void the eval")
    examples = [e for path in paths for e in load_examples(path)]
    result = train(examples, seed=seed, lexicon=lexicon, progress=progress)
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


# -- the shipped models, trained on real posts ------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How one shipped model is trained: its inputs, its sentiment head, and how much each source counts.

    Sources are weighted after balancing the classes within each and shrinking each towards the same
    size (weight ∝ 1/√n); a source at 0 or absent is not used for sentiment. The mixes and heads were
    chosen on the real validation splits (benchmarks/sentiment_sources.py prints what each source adds):
    UMSAB is what the tweet targets are set on, SemEval and the reviews are large and labelled to other
    conventions, the team's written set stays a minority.
    """

    features: tuple[str, ...]
    head: str  # "mlp": one ReLU hidden layer; "logistic": multinomial logistic regression
    regularisation: float  # the MLP's alpha, or the logistic regression's C
    weights: dict[str, float]
    # Only the first rows of these sources (their files are already shuffled): the transformer reads
    # ~10-40 texts/s here, so the accurate model's training set is kept to ~14k texts.
    limit: dict[str, int] = field(default_factory=dict)
    # Another shipped model whose sentiment is averaged in with this share (it must be trained first).
    blend: str | None = None
    blend_weight: float = 0.0


RECIPES = {
    "fast": Recipe(
        features=("use", "lexicon", "cues"),
        head="mlp",
        regularisation=1e-3,
        weights={
            "umsab_fr": 2.0,
            "umsab_en": 2.0,
            "semeval_en": 0.5,
            "deft2017_fr": 1.0,
            "reviews_fr": 0.5,
            "freemobilachat_fr": 1.0,
            "team": 0.5,
        },  # fmt: skip
    ),
    "accurate": Recipe(
        features=("e5", "use", "lexicon", "cues"),
        head="logistic",
        regularisation=0.3,
        weights={
            "umsab_fr": 4.0,
            "umsab_en": 4.0,
            "semeval_en": 1.0,
            "deft2017_fr": 1.0,
            "freemobilachat_fr": 1.0,
            "team": 0.5,
        },  # fmt: skip
        limit={"semeval_en": 4000, "reviews_fr": 1500},
        blend="fast",
        blend_weight=0.5,
    ),
}
HIDDEN_UNITS = 256
MLP_SEEDS = 3
INTENT_C = 1.0
# Each intent's (C, class weight) is the one of these that does best out-of-fold on the real posts.
INTENT_GRID = ((1.0, "balanced"), (0.25, "balanced"), (1.0, None), (0.25, None))
REAL_INTENT_WEIGHT = 6.0
REAL_TUNE_POSITIVES = 20  # fewer real positives than this: the threshold is chosen on all the data
SENTIMENT_SKIPS = ("cues",)  # feature blocks the sentiment head does not read (its weights there are 0)


@dataclass
class Labelled:
    """Examples of one source with their feature matrix."""

    source: str
    examples: list[Example]
    x: np.ndarray


def real_examples(source: str, split: str) -> list[Example]:
    """One real source's split as Examples (a sentiment-only source's are marked `intents_labelled=False`;
    posts picked by keyword retrieval, per `selection.json`, are marked `retrieved`)."""
    from nlp.realdata import read_split, retrieved_ids

    retrieved = retrieved_ids(source)
    out = []
    for row in read_split(source, split):
        example = parse_example({**row, "intents": row.get("intents") or []})
        example.real, example.intents_labelled = True, row.get("intents") is not None
        example.retrieved = row["id"] in retrieved
        out.append(example)
    return out


def feature_matrix(
    examples: list[Example],
    names: list[str],
    cache: Path | None = None,
    batch_size: int = 32,
    progress: Progress | None = None,
    step: str = "encoding",
) -> np.ndarray:
    """The model's input for these examples; with `cache`, each block is kept in a file named by its texts.

    `progress` hears, as `step`, the texts encoded so far, block after block (out of texts × blocks).
    """
    from nlp.classifier import feature_block

    texts = [model_text(e.text) for e in examples]
    languages = [e.lang for e in examples]
    total = len(texts) * len(names)
    if progress is not None:
        progress(step, 0, total)
    blocks = []
    for position, name in enumerate(names):
        path = None
        if cache is not None:
            digest = hashlib.sha256("\x1e".join(texts + languages).encode("utf-8", "replace")).hexdigest()
            path = cache / f"{name}-{digest[:24]}.npy"
            if path.is_file():
                blocks.append(np.load(path, allow_pickle=False))
                if progress is not None:
                    progress(step, (position + 1) * len(texts), total)
                continue
        if progress is None or not texts:
            block = feature_block(name, texts, languages, batch_size)
        else:  # whole batches at a time, so the encoder sees the same batches as in one call
            chunk, parts = batch_size * ENCODING_CHUNK, []
            for start in range(0, len(texts), chunk):
                end = start + chunk
                parts.append(feature_block(name, texts[start:end], languages[start:end], batch_size))
                progress(step, position * len(texts) + min(end, len(texts)), total)
            block = np.vstack(parts)
        if path is not None:
            cache.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            np.save(path, block)
        blocks.append(block)
    return np.hstack(blocks)


def _source_weights(sets: list[Labelled], weights: dict[str, float]) -> np.ndarray:
    parts = []
    for labelled in sets:
        y = np.array([SENTIMENTS.index(e.sentiment) for e in labelled.examples])
        per_class = {
            c: len(y) / (len(SENTIMENTS) * max(1, int((y == c).sum()))) for c in range(len(SENTIMENTS))
        }
        scale = weights[labelled.source] * (1000 / len(y)) ** 0.5
        parts.append(np.array([scale * per_class[c] for c in y]))
    sample_weight = np.concatenate(parts)
    return sample_weight / sample_weight.mean()


def validation_scores(proba: np.ndarray, examples: list[Example], metric: str) -> dict[str, Any]:
    """What MODEL_CARD.md reports for one source: macro-F1 (3 classes) or polarity accuracy, and ECE."""
    from nlp.evaluate import expected_calibration_error

    gold = np.array([SENTIMENTS.index(e.sentiment) for e in examples])
    predicted = proba.argmax(axis=1)
    scores: dict[str, Any] = {
        "n": len(examples),
        "accuracy": round(float((predicted == gold).mean()), 4),
        "macro_f1": round(_macro_f1(gold, predicted), 4),
        "ece": expected_calibration_error(proba.max(axis=1).tolist(), (predicted == gold).tolist()),
    }
    if metric == "polarity":
        # Positive vs negative: which of the two the model finds likelier, on gold-polar reviews.
        polar = gold != SENTIMENTS.index("neutral")
        pos, neg = SENTIMENTS.index("positive"), SENTIMENTS.index("negative")
        guess = np.where(proba[:, pos] > proba[:, neg], pos, neg)
        scores["polarity_accuracy"] = round(float((guess[polar] == gold[polar]).mean()), 4)
        scores["polar_n"] = int(polar.sum())
    return scores


def headline(scores: dict[str, Any]) -> float:
    """The one figure a source is judged by: polarity accuracy for reviews, macro-F1 otherwise."""
    return scores.get("polarity_accuracy", scores["macro_f1"])


def train_shipped(
    name: str,
    seed: int = SEED,
    cache: Path | None = None,
    leave_out: str | None = None,
    intents: bool = True,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit the `fast` or `accurate` model on the real training splits plus the team's written data.

    Sentiment: the recipe's head (RECIPES) on the model's features, sources weighted, its temperature
    fitted on the real validation splits so confidences are calibrated on real posts.
    Intents: one logistic regression per intent on the sources labelled for intents (the team's data, the
    real French telecom tweets and the English SemEval tweets of semeval_en_intents), Platt-scaled and
    thresholded out-of-fold as `train` does; scored per source on their held-aside splits. `leave_out` and
    `intents=False` serve benchmarks/sentiment_sources.py (what each source adds). `progress` hears each
    phase: "<model>: encoding <source> (<split>)" (texts), "<model>: fitting sentiment", "<model>: fitting
    intents".
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from nlp.realdata import SOURCES, sentiment_sources

    if name not in RECIPES:
        raise DataError(f"unknown model {name!r} (known: {', '.join(RECIPES)})")
    recipe = RECIPES[name]
    names = list(recipe.features)
    weights = {k: v for k, v in recipe.weights.items() if k != leave_out and v > 0}
    team = [e for path in default_training_files() for e in load_examples(path)]

    def encoded(examples: list[Example], source: str, split: str) -> np.ndarray:
        step = f"{name}: encoding {source} ({split})"
        return feature_matrix(examples, names, cache, progress=progress, step=step)

    train_sets = [Labelled("team", team, encoded(team, "team", "train"))] if "team" in weights else []
    intent_only: list[Labelled] = []
    for source in SOURCES:
        examples = real_examples(source, "train")
        examples = examples[: recipe.limit.get(source, len(examples))]
        if not examples:
            continue
        if source in weights and source in sentiment_sources():
            train_sets.append(Labelled(source, examples, encoded(examples, source, "train")))
        elif any(e.intents_labelled for e in examples) and source != leave_out:
            # Intents only: a source labelled for intents but not weighted for sentiment, or whose texts
            # and sentiment another source already carries (semeval_en_intents: semeval_en's tweets).
            intent_only.append(Labelled(source, examples, encoded(examples, source, "train")))
    x_all = np.vstack([s.x for s in train_sets])
    sentiment_columns = feature_columns(names, [n for n in names if n not in SENTIMENT_SKIPS])
    x = x_all[:, sentiment_columns]
    y = np.array([SENTIMENTS.index(e.sentiment) for s in train_sets for e in s.examples])
    sample_weight = _source_weights(train_sets, weights)

    def widen(weights_: np.ndarray) -> np.ndarray:
        """Sentiment weights over every input column, 0 on the blocks sentiment does not read."""
        full = np.zeros((weights_.shape[0], x_all.shape[1]), dtype=weights_.dtype)
        full[:, sentiment_columns] = weights_
        return full

    if recipe.head == "mlp":
        # Several MLPs from different seeds, their logits averaged: one MLP whose hidden layer is theirs
        # side by side. One seed alone had pockets of nonsense (a furious complaint read as positive).
        mlps = []
        for k in range(MLP_SEEDS):
            mlp = MLPClassifier(
                hidden_layer_sizes=(HIDDEN_UNITS,),
                alpha=recipe.regularisation,
                early_stopping=True,
                random_state=seed + k,
                max_iter=200,
            )
            mlps.append(mlp.fit(x, y, sample_weight=sample_weight))
            if progress is not None:
                progress(f"{name}: fitting sentiment", k + 1, MLP_SEEDS)
        head = Head.without_intents(
            x_all.shape[1],
            sentiment_weights=np.hstack([m.coefs_[1].T for m in mlps]) / len(mlps),
            sentiment_bias=np.mean([m.intercepts_[1] for m in mlps], axis=0),
            temperature=1.0,
            features=names,
            name=name,
            hidden_weights=widen(np.vstack([m.coefs_[0].T for m in mlps]))
            .astype(np.float16)
            .astype(np.float32),
            hidden_bias=np.concatenate([m.intercepts_[0] for m in mlps]),
        )
    else:
        logistic = LogisticRegression(C=recipe.regularisation, max_iter=3000, random_state=seed)
        logistic.fit(x, y, sample_weight=sample_weight)
        if progress is not None:
            progress(f"{name}: fitting sentiment", 1, 1)
        head = Head.without_intents(
            x_all.shape[1],
            sentiment_weights=widen(logistic.coef_),
            sentiment_bias=logistic.intercept_,
            temperature=1.0,
            features=names,
            name=name,
        )

    val_sets = []
    for source in SOURCES:
        examples = real_examples(source, "val")
        if examples:
            val_sets.append(Labelled(source, examples, encoded(examples, source, "val")))
    # Sentiment is calibrated and scored once per post: not again on a copy labelled for intents.
    sentiment_val = [s for s in val_sets if s.source in sentiment_sources()]
    val_logits = np.vstack([head.sentiment_logits(s.x) for s in sentiment_val])
    val_y = np.array([SENTIMENTS.index(e.sentiment) for s in sentiment_val for e in s.examples])
    head.temperature = _temperature(val_logits, val_y)
    if recipe.blend:  # the fast head as shipped, averaged in; one temperature over the blend
        head.blend, head.blend_weight = Head.load(SHIPPED_MODELS[recipe.blend]), recipe.blend_weight
        blended = np.vstack([head.sentiment_proba(s.x) for s in sentiment_val])
        head.blend_temperature = _temperature(np.log(blended + 1e-12), val_y)

    metrics: dict[str, Any] = {
        "temperature": round(head.temperature, 4),
        "blend": {"model": recipe.blend, "weight": recipe.blend_weight, "temperature": head.blend_temperature}
        if recipe.blend
        else None,
        "recipe": {
            "head": recipe.head,
            "regularisation": recipe.regularisation,
            "weights": weights,
            "limit": recipe.limit,
        },  # fmt: skip
        "training_examples": {s.source: len(s.examples) for s in train_sets},
        "intent_training_examples": {
            s.source: sum(e.intents_labelled for e in s.examples)
            for s in [*train_sets, *intent_only]
            if any(e.intents_labelled for e in s.examples)
        },
        "validation": {
            s.source: validation_scores(head.sentiment_proba(s.x), s.examples, SOURCES[s.source].metric)
            for s in sentiment_val
        },
        "cv_intents": {},
        "skipped_intents": {},
    }
    intent_rows = [
        (row, e)
        for s in [*train_sets, *intent_only]
        for row, e in zip(s.x, s.examples, strict=True)
        if e.intents_labelled
    ]
    if intents:
        _fit_intents(
            head,
            np.array([r for r, _ in intent_rows]),
            [e for _, e in intent_rows],
            seed,
            metrics,
            progress=progress,
            step=f"{name}: fitting intents",
        )
        metrics["validation_intents"] = _validation_intents(head, val_sets)
    return TrainResult(head, metrics)


def _validation_intents(head: Head, val_sets: list[Labelled]) -> dict[str, Any]:
    """Per-intent P/R/F1 on the validation splits labelled for intents (reported, never chosen on)."""
    from nlp.evaluate import score_intents

    out: dict[str, Any] = {}
    for s in val_sets:
        if not any(e.intents_labelled for e in s.examples):
            continue
        fired = head.intent_proba(s.x) >= head.thresholds
        predicted = [[k for k, on in zip(head.intent_labels, row, strict=True) if on] for row in fired]
        scores = score_intents([e.intents for e in s.examples], predicted, list(INTENTS))
        out[s.source] = {
            k: {"n": v.support, "precision": v.precision, "recall": v.recall, "f1": v.f1}
            for k, v in scores.items()
        }
    return out


def _fit_intents(
    head: Head,
    x: np.ndarray,
    examples: list[Example],
    seed: int,
    metrics: dict[str, Any],
    c: float | None = None,
    progress: Progress | None = None,
    step: str = "fitting intents",
) -> None:
    """One Platt-scaled logistic regression per intent with enough positives, thresholded out-of-fold;
    `progress` hears, as `step`, the intents done.

    Real posts weigh REAL_INTENT_WEIGHT times a written one. Each intent's (C, class weight) from INTENT_GRID
    (or `c`, balanced, when given) and its threshold are the ones that do best out-of-fold on the real
    training posts that were sampled at random, not retrieved by keyword, so that the rates they are tuned
    at are those of real traffic (on all the data when those hold too few positives).
    """
    real = np.array([e.real for e in examples])
    tune_pool = real & ~np.array([e.retrieved for e in examples])
    weight = np.where(real, REAL_INTENT_WEIGHT, 1.0)
    grid = INTENT_GRID if c is None else ((c, "balanced"),)
    labels, weights, biases, scales, shifts, thresholds = [], [], [], [], [], []
    for intent in counted(INTENTS, progress, step, len(INTENTS)):
        target = np.array([intent in e.intents for e in examples], dtype=int)
        positives = int(target.sum())
        if positives < MIN_POSITIVES or positives > len(target) - MIN_POSITIVES:
            metrics["skipped_intents"][intent] = positives
            continue
        enough = int(target[tune_pool].sum()) >= REAL_TUNE_POSITIVES
        tune = tune_pool if enough else np.ones(len(target), bool)
        best: tuple[float, float, float, float, float, str | None] | None = None
        for c_value, class_weight in grid:
            scores = _oof_scores(x, target, c_value, seed, weight, class_weight)
            scale, shift = _platt(scores, target, seed)
            proba = 1 / (1 + np.exp(-(scores * scale + shift)))
            threshold, f1 = _best_threshold(proba[tune], target[tune])
            if best is None or f1 > best[0] + 1e-9:
                best = (f1, threshold, scale, shift, c_value, class_weight)
        f1, threshold, scale, shift, c_value, class_weight = best  # type: ignore[misc]
        fitted = _logistic(c_value, seed, class_weight).fit(x, target, sample_weight=weight)
        labels.append(intent)
        weights.append(fitted.coef_[0])
        biases.append(fitted.intercept_[0])
        scales.append(scale)
        shifts.append(shift)
        thresholds.append(threshold)
        metrics["cv_intents"][intent] = {
            "positives": positives,
            "f1": round(f1, 4),
            "C": c_value,
            "class_weight": class_weight,
            "tuned_on": int(tune.sum()),
        }
    head.intent_labels = labels
    head.intent_weights = np.array(weights).reshape(len(labels), x.shape[1])
    head.intent_bias = np.array(biases)
    head.platt_scale = np.array(scales)
    head.platt_shift = np.array(shifts)
    head.thresholds = np.array(thresholds)


def write_shipped(
    name: str, out: Path, seed: int = SEED, cache: Path | None = None, progress: Progress | None = None
) -> TrainResult:
    """Train `name` (telling `progress` each phase) and write its directory, with provenance and validation
    scores in model.json."""
    import sklearn

    from nlp.realdata import REAL_DIR

    result = train_shipped(name, seed, cache, progress=progress)
    files = sorted(REAL_DIR.glob("*/train.jsonl")) + default_training_files()
    meta = {
        "training_data": {
            "files": [_shown(p) for p in files],
            "sha256": data_hash(files),
            "examples": sum(result.metrics["training_examples"].values()),
        },
        "seed": seed,
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
        "metrics": result.metrics,
    }
    result.head.save(out, meta)
    return result
