"""Accuracy of the sentiment and intent labels against hand-written gold labels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.documents import Mention
from core.progress import Progress, counted


@dataclass
class LabelScore:
    """Accuracy, macro-F1 and per-class F1 of one label family on one slice of the data."""

    total: int = 0
    correct: int = 0
    per_class: dict[str, float] = field(default_factory=dict)
    macro_f1: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def score_labels(gold: list[str], predicted: list[str]) -> LabelScore:
    """Accuracy plus per-class and macro F1 over the classes present in gold or predictions."""
    score = LabelScore(total=len(gold), correct=sum(g == p for g, p in zip(gold, predicted, strict=True)))
    true_pos, gold_count, pred_count = Counter(), Counter(gold), Counter(predicted)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_pos[g] += 1
    for label in sorted(set(gold) | set(predicted)):
        precision = true_pos[label] / pred_count[label] if pred_count[label] else 0.0
        recall = true_pos[label] / gold_count[label] if gold_count[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        score.per_class[label] = round(f1, 3)
    score.macro_f1 = (
        round(sum(score.per_class.values()) / len(score.per_class), 3) if score.per_class else 0.0
    )
    return score


def evaluate(mentions: list[Mention], gold: list[dict[str, str]]) -> dict[str, dict[str, LabelScore]]:
    """Scores per label family ('sentiment', 'intent') and per language ('all', 'fr', 'en')."""
    report: dict[str, dict[str, LabelScore]] = {}
    for family in ("sentiment", "intent"):
        report[family] = {}
        for language in ("all", "fr", "en"):
            pairs = [
                (g[family], getattr(m, family).label)
                for m, g in zip(mentions, gold, strict=True)
                if language == "all" or m.language == language
            ]
            report[family][language] = score_labels([p[0] for p in pairs], [p[1] for p in pairs])
    return report


@dataclass
class IntentScore:
    """Precision, recall and F1 of one intent label, treated as its own yes/no question."""

    support: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0


def score_intents(
    gold: list[list[str]], predicted: list[list[str]], labels: list[str]
) -> dict[str, IntentScore]:
    """Per-label scores for multi-label intents."""
    scores = {}
    for label in labels:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted, strict=True))
        n_gold = sum(label in g for g in gold)
        n_pred = sum(label in p for p in predicted)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = IntentScore(n_gold, round(precision, 3), round(recall, 3), round(f1, 3))
    return scores


@dataclass
class SystemReport:
    """How one system (the trained model, or the lexicon baseline) did on a labelled set."""

    name: str
    sentiment: dict[str, LabelScore]
    intents: dict[str, IntentScore]
    phenomena: dict[str, LabelScore]
    calibration_error: float | None = None


def report_for(
    name: str,
    examples: list[Any],
    sentiments: list[str],
    intents: list[list[str]],
    intent_labels: list[str],
) -> SystemReport:
    """Sentiment per language ('all', 'fr', 'en'), intents per label, sentiment per phenomenon."""
    by_language = {}
    for language in ("all", "fr", "en"):
        pairs = [
            (e.sentiment, s) for e, s in zip(examples, sentiments, strict=True) if language in ("all", e.lang)
        ]
        if pairs:
            by_language[language] = score_labels([g for g, _ in pairs], [p for _, p in pairs])
    phenomena = {}
    for phenomenon in sorted({p for e in examples for p in e.phenomena}):
        pairs = [
            (e.sentiment, s) for e, s in zip(examples, sentiments, strict=True) if phenomenon in e.phenomena
        ]
        phenomena[phenomenon] = score_labels([g for g, _ in pairs], [p for _, p in pairs])
    gold_intents = [list(e.intents) for e in examples]
    return SystemReport(name, by_language, score_intents(gold_intents, intents, intent_labels), phenomena)


def evaluate_examples(classifier: Any, examples: list[Any]) -> tuple[SystemReport, SystemReport]:
    """The trained classifier and the lexicon + cue-pattern baseline on the same labelled examples."""
    from nlp.classifier import INTENTS
    from nlp.intent import classify_intent
    from nlp.language import normalise
    from nlp.sentiment import score_sentiment

    texts = [normalise(e.text).for_models for e in examples]
    languages = [e.lang for e in examples]
    predictions = classifier.predict(texts, languages)
    model = report_for(
        "model",
        examples,
        [p.sentiment.label for p in predictions],
        [[i.label for i in p.intents] for p in predictions],
        list(INTENTS),
    )
    model.calibration_error = expected_calibration_error(
        [p.sentiment.confidence for p in predictions],
        [p.sentiment.label == e.sentiment for p, e in zip(predictions, examples, strict=True)],
    )
    baseline_intents = [label.label for label in classify_intent(texts)]
    baseline = report_for(
        "lexicon",
        examples,
        [label.label for label in score_sentiment(texts, languages)],
        [[] if i == "other" else [i] for i in baseline_intents],
        list(INTENTS),
    )
    return model, baseline


def format_reports(model: SystemReport, baseline: SystemReport) -> list[str]:
    """The side-by-side lines `ecoute nlp eval` prints."""
    lines = []
    for language, score in model.sentiment.items():
        base = baseline.sentiment[language]
        lines.append(
            f"sentiment {language:<3} n={score.total:<4} accuracy={score.accuracy:.3f} "
            f"macro-F1={score.macro_f1:.3f}  | lexicon accuracy={base.accuracy:.3f} "
            f"macro-F1={base.macro_f1:.3f}"
        )
    if model.calibration_error is not None:
        lines.append(
            f"sentiment calibration: expected calibration error {model.calibration_error:.3f} "
            "(10 confidence bins; 0 = confidence matches accuracy)"
        )
    for label, score in model.intents.items():
        base = baseline.intents[label]
        lines.append(
            f"intent    {label:<22} n={score.support:<4} P={score.precision:.3f} R={score.recall:.3f} "
            f"F1={score.f1:.3f}  | cue patterns F1={base.f1:.3f}"
        )
    for phenomenon, score in model.phenomena.items():
        base = baseline.phenomena[phenomenon]
        lines.append(
            f"phenomenon {phenomenon:<20} n={score.total:<4} sentiment accuracy={score.accuracy:.3f}"
            f"  | lexicon accuracy={base.accuracy:.3f}"
        )
    return lines


@dataclass
class LinkScore:
    """Customer linking against known authorship: a link is right only if it names the right customer."""

    gold_links: int
    predicted_links: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted_links if self.predicted_links else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold_links if self.gold_links else 0.0


def score_links(predicted: list[str | None], gold: list[str | None]) -> LinkScore:
    """Precision and recall of predicted customer ids against the gold ones (None: not a customer)."""
    pairs = list(zip(predicted, gold, strict=True))
    return LinkScore(
        gold_links=sum(g is not None for _, g in pairs),
        predicted_links=sum(p is not None for p, _ in pairs),
        correct=sum(p is not None and p == g for p, g in pairs),
    )


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Mean gap between stated confidence and observed accuracy, over equal-width confidence bins,
    weighted by how many predictions fall in each bin."""
    if not confidences:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            (c, ok)
            for c, ok in zip(confidences, correct, strict=True)
            if low < c <= high or (b == 0 and c == 0)
        ]
        if members:
            accuracy = sum(ok for _, ok in members) / len(members)
            confidence = sum(c for c, _ in members) / len(members)
            total += len(members) * abs(accuracy - confidence)
    return round(total / len(confidences), 4)


# -- real data: every shipped model and the lexicon on each real source's validation split ------------------


@dataclass
class RealScore:
    """One system on one real source's validation split."""

    source: str
    system: str
    n: int
    metric: str  # macro_f1 | polarity
    value: float
    ece: float | None


def lexicon_proba(texts: list[str], languages: list[str]) -> Any:
    """VADER's compound score as a three-way guess (±0.05 bands), for the baseline column."""
    import numpy as np

    from nlp.classifier import lexicon_scores

    compound = lexicon_scores(texts, languages)[:, 0]
    proba = np.zeros((len(texts), 3))
    proba[compound <= -0.05, 0] = 1.0
    proba[(compound > -0.05) & (compound < 0.05), 1] = 1.0
    proba[compound >= 0.05, 2] = 1.0
    # Polarity on reviews: the sign of the compound score, so "neutral" never wins by default.
    proba[:, 2] += (compound > 0) * 1e-3
    proba[:, 0] += (compound <= 0) * 1e-3
    return proba


def real_data_scores(
    classifiers: dict[str, Any], sources: list[str] | None = None, progress: Progress | None = None
) -> list[RealScore]:
    """Each classifier (and the lexicon) on each real validation split, by that source's metric;
    `progress` hears the splits scored ("scoring real validation splits")."""
    import numpy as np

    from nlp.classifier import SENTIMENTS
    from nlp.realdata import SOURCES, sentiment_sources
    from nlp.train import DataError, headline, model_text, real_examples, validation_scores

    rows = []
    unknown = [s for s in sources or [] if s not in SOURCES]
    if unknown:
        raise DataError(f"unknown real source {unknown[0]!r} (known: {', '.join(SOURCES)})")
    chosen = sources or sentiment_sources()
    for source in counted(chosen, progress, "scoring real validation splits", len(chosen)):
        examples = real_examples(source, "val")
        if not examples:
            continue
        metric = SOURCES[source].metric
        texts = [model_text(e.text) for e in examples]
        languages = [e.lang for e in examples]
        systems: dict[str, Any] = {"lexicon (VADER)": lexicon_proba(texts, languages)}
        for name, classifier in classifiers.items():
            predictions = classifier.predict(texts, languages)
            systems[name] = np.array([[p.sentiment_scores[s] for s in SENTIMENTS] for p in predictions])
        for name, proba in systems.items():
            scores = validation_scores(proba, examples, metric)
            ece = None if name.startswith("lexicon") else scores["ece"]
            rows.append(RealScore(source, name, len(examples), metric, headline(scores), ece))
    return rows


def real_intent_scores(classifier: Any, source: str = "freemobilachat_fr") -> dict[str, IntentScore]:
    """Intents on a real source labelled for them (held-aside split), per intent: freemobilachat_fr or
    semeval_en_intents (`nlp.realdata.intent_sources`)."""
    from nlp.classifier import INTENTS
    from nlp.train import model_text, real_examples

    examples = [e for e in real_examples(source, "val") if e.intents_labelled]
    texts = [model_text(e.text) for e in examples]
    predictions = classifier.predict(texts, [e.lang for e in examples])
    return score_intents(
        [list(e.intents) for e in examples],
        [[i.label for i in p.intents] for p in predictions],
        list(INTENTS),
    )


def format_real(rows: list[RealScore]) -> list[str]:
    """The real-data table: one line per source, one column per system (metric, then ECE in brackets)."""
    from nlp.realdata import SOURCES

    systems = list(dict.fromkeys(r.system for r in rows))
    header = f"{'real validation split':<22} {'n':>5} {'metric':<16}" + "".join(f" {s:>22}" for s in systems)
    lines = [header]
    for source in dict.fromkeys(r.source for r in rows):
        mine = {r.system: r for r in rows if r.source == source}
        first = next(iter(mine.values()))
        metric = "polarity acc." if first.metric == "polarity" else "macro-F1"
        cells = "".join(
            f" {mine[s].value:>10.3f}"
            + (f" (ECE {mine[s].ece:.3f})" if mine[s].ece is not None else " " * 12)
            for s in systems
        )
        lines.append(f"{source:<22} {first.n:>5} {metric:<16}{cells}  {SOURCES[source].lang}")
    return lines
