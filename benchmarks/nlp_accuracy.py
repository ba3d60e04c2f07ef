"""Sentiment and intent accuracy of the current NLP pipeline on the hand-labelled sample set.

    .venv/bin/python benchmarks/nlp_accuracy.py

The sample's `expected` block is the gold label written with each fictional mention.
"""

from __future__ import annotations

from pathlib import Path

from ecoute.config import load_settings
from ecoute.samples import sample_posts
from nlp.evaluate import evaluate
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    settings = load_settings(ROOT / "config.yaml")
    posts, gold = sample_posts()
    mentions = enrich(posts, CustomerDirectory(), settings.brand, with_entities=False)
    report = evaluate(mentions, gold)
    for family, by_language in report.items():
        for language, score in by_language.items():
            print(
                f"{family:<9} {language:<3} n={score.total:<4} accuracy={score.accuracy:.3f} "
                f"macro-F1={score.macro_f1:.3f}  "
                + " ".join(f"{k}={v:.2f}" for k, v in score.per_class.items())
            )


if __name__ == "__main__":
    main()
