"""What each real source adds: the fast model trained with every source, then without each one in turn.

    .venv/bin/python benchmarks/sentiment_sources.py [--cache .state/features] [--model fast]

Same features, weights and head as `ecoute nlp train` (nlp/train.py: RECIPES); only the
sentiment part is fitted. Prints, per real validation split, its headline score (macro-F1, or polarity
accuracy for reviews) for each training mix. Validation splits only: no public test split is read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nlp import train


def sentiment_scores(name: str, cache: Path | None, leave_out: str | None) -> dict[str, float]:
    result = train.train_shipped(name, cache=cache, leave_out=leave_out, intents=False)
    return {source: train.headline(score) for source, score in result.metrics["validation"].items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path(".state/features"))
    parser.add_argument("--model", default="fast")
    args = parser.parse_args()
    mixes = [None, *train.RECIPES[args.model].weights]
    rows = {mix: sentiment_scores(args.model, args.cache, mix) for mix in mixes}
    sources = list(rows[None])
    print(f"{'training mix':<28}" + "".join(f"{s:>20}" for s in sources))
    for mix, scores in rows.items():
        label = "all sources" if mix is None else f"without {mix}"
        cells = "".join(
            f"{scores[s]:>14.3f} ({scores[s] - rows[None][s]:+.3f})" if mix else f"{scores[s]:>20.3f}"
            for s in sources
        )
        print(f"{label:<28}{cells}")


if __name__ == "__main__":
    main()
