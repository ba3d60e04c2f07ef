from nlp.evaluate import score_labels


def test_scores_count_accuracy_and_f1_per_class():
    score = score_labels(
        ["negative", "negative", "positive", "neutral"], ["negative", "positive", "positive", "neutral"]
    )
    assert (score.total, score.correct, score.accuracy) == (4, 3, 0.75)
    # negative: p=1, r=0.5 -> 0.667; positive: p=0.5, r=1 -> 0.667; neutral: 1.0
    assert score.per_class == {"negative": 0.667, "neutral": 1.0, "positive": 0.667}
    assert score.macro_f1 == 0.778


def test_intents_are_scored_per_label_as_multi_label():
    from nlp.evaluate import score_intents

    scores = score_intents(
        [["complaint", "churn_risk"], ["praise"], []],
        [["complaint"], ["praise", "question"], []],
        ["complaint", "churn_risk", "praise", "question"],
    )
    assert (scores["complaint"].f1, scores["praise"].f1) == (1.0, 1.0)
    assert (scores["churn_risk"].support, scores["churn_risk"].recall) == (1, 0.0)
    assert (scores["question"].support, scores["question"].precision) == (0, 0.0)


def test_eval_command_prints_each_language_intent_and_phenomenon_beside_the_lexicon():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "ecoute", "nlp", "eval", "--eval", "tests/fixtures/nlp/eval_small.jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "eval_small.jsonl: 12 examples" in lines[0]
    for prefix in ("sentiment all n=12", "sentiment fr  n=6", "sentiment en  n=6"):
        (line,) = [row for row in lines if row.startswith(prefix)]
        assert "macro-F1=" in line and "| lexicon accuracy=" in line
    assert any(row.startswith("intent    churn_risk") and "| cue patterns F1=" in row for row in lines)
    (sarcasm,) = [row for row in lines if row.startswith("phenomenon sarcasm")]
    assert "n=2" in sarcasm and "| lexicon accuracy=" in sarcasm


def test_eval_of_a_missing_file_is_one_clear_line(tmp_path):
    import subprocess
    import sys

    missing = tmp_path / "nope.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "ecoute", "nlp", "eval", "--eval", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ecoute: {missing}: cannot read (No such file or directory)"
    ]


def test_scoring_the_real_splits_tells_each_split_scored():
    from nlp.evaluate import real_data_scores

    heard: list[tuple[str, int, int | None]] = []
    rows = real_data_scores({}, ["umsab_fr", "umsab_en"], progress=lambda *told: heard.append(told))
    assert [(r.source, r.system) for r in rows] == [
        ("umsab_fr", "lexicon (VADER)"),
        ("umsab_en", "lexicon (VADER)"),
    ]
    assert heard == [("scoring real validation splits", n, 2) for n in range(3)]
