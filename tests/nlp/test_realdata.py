"""The real labelled sets as shipped: fixed splits, and which training posts were retrieved by keyword."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from nlp.realdata import REAL_DIR, read_split, retrieved_ids
from nlp.train import real_examples

SOURCE = "freemobilachat_fr"


def write_selection(root: Path, selection: dict) -> None:
    (root / SOURCE).mkdir(parents=True)
    (root / SOURCE / "selection.json").write_text(json.dumps(selection), "utf-8")


def test_retrieved_ids_count_keyword_picks_of_every_round(tmp_path: Path):
    write_selection(
        tmp_path,
        {
            "seed": 2026,
            "eval_ids": ["000001"],
            "train_ids": ["000002", "000003", "000004", "000005", "000006"],
            "round2": {"seed": 2027, "method": {"000003": "retrieval:keywords", "000004": "random"}},
            "round3": {"seed": 2028, "method": {"000005": "retrieval:keywords", "000006": "random"}},
            "round_notes": {"method": {"000002": "retrieval:keywords"}},
        },
    )
    assert retrieved_ids(SOURCE, tmp_path) == {f"{SOURCE}-000003", f"{SOURCE}-000005"}
    assert retrieved_ids("umsab_fr", tmp_path) == set()


def test_the_telecom_tweets_hold_every_labelled_round_with_eval_untouched():
    selection = json.loads((REAL_DIR / SOURCE / "selection.json").read_text("utf-8"))
    train, val = read_split(SOURCE, "train"), read_split(SOURCE, "val")
    assert [r["id"] for r in train] == [f"{SOURCE}-{t}" for t in selection["train_ids"]]
    assert [r["id"] for r in val] == [f"{SOURCE}-{t}" for t in selection["eval_ids"]]
    assert len(val) == 300 and len(train) == 700 + 856 + 362
    assert not set(selection["train_ids"]) & set(selection["eval_ids"])
    for round_ in ("round2", "round3"):
        assert set(selection[round_]["method"]) <= set(selection["train_ids"])
    assert Counter(selection["round3"]["method"].values()) == {"retrieval:keywords": 62, "random": 300}
    assert {r["sentiment"] for r in train} == {"negative", "neutral", "positive"}
    assert all(isinstance(r["intents"], list) for r in train)


def test_training_marks_retrieved_tweets_of_rounds_2_and_3_so_thresholds_skip_them():
    examples = real_examples(SOURCE, "train")
    retrieved = retrieved_ids(SOURCE)
    assert len(retrieved) == 356 + 62
    assert sum(e.retrieved for e in examples) == len(retrieved)
    assert not any(e.retrieved for e in real_examples(SOURCE, "val"))
