"""Sentiment and intent accuracy of the current NLP pipeline on the hand-labelled sample set.

    .venv/bin/python benchmarks/nlp_accuracy.py

The sample's `expected` block is the gold label written with each fictional mention.
"""

from __future__ import annotations

import json
from pathlib import Path

from collectors.base import RawPost
from ecoute.config import load_settings
from nlp.evaluate import evaluate
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    settings = load_settings(ROOT / "config.yaml")
    rows = [
        json.loads(line) for line in (ROOT / "samples" / "mentions.jsonl").read_text().splitlines() if line
    ]
    posts = [
        RawPost.model_validate({**{k: v for k, v in row.items() if k != "expected"}, "source": "sample"})
        for row in rows
    ]
    mentions = enrich(posts, CustomerDirectory(), settings.brand, with_entities=False)
    report = evaluate(mentions, [row["expected"] for row in rows])
    for family, by_language in report.items():
        for language, score in by_language.items():
            print(
                f"{family:<9} {language:<3} n={score.total:<4} accuracy={score.accuracy:.3f} "
                f"macro-F1={score.macro_f1:.3f}  "
                + " ".join(f"{k}={v:.2f}" for k, v in score.per_class.items())
            )


if __name__ == "__main__":
    main()
