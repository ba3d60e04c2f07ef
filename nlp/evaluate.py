"""Accuracy of the sentiment and intent labels against hand-written gold labels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from index.documents import Mention


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
