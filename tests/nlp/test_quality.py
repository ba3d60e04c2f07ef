"""`ecoute nlp eval` as a user runs it: the real-data table first, then the team-written set (secondary).

The real table is limited here to two real validation splits (the accurate model reads ~10-40 texts/s on
two cores); tests/nlp/test_shipped_models.py checks the recorded scores split by split.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from nlp.evaluate import expected_calibration_error, score_links
from nlp.train import DEFAULT_EVAL_FILES, default_training_files, load_examples
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def eval_output() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ecoute", "nlp", "eval", "--config", str(ROOT / "config.yaml"),
         "--source", "umsab_fr", "--source", "freemobilachat_fr"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def real_line(output: str, source: str) -> tuple[float, float, float]:
    """(lexicon, fast, accurate) on one real validation split, as the table prints them."""
    match = re.search(
        rf"^{source}\s+\d+ macro-F1\s+([\d.]+)\s+([\d.]+) \(ECE [\d.]+\)\s+([\d.]+) \(ECE", output, re.M
    )
    assert match, output
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


def test_the_real_table_shows_both_models_above_the_lexicon(eval_output: str):
    assert re.search(r"^real validation split .* lexicon \(VADER\)\s+fast\s+accurate", eval_output, re.M)
    lexicon, fast, accurate = real_line(eval_output, "umsab_fr")
    assert fast >= 0.62 and min(fast, accurate) > lexicon + 0.1
    lexicon, fast, accurate = real_line(eval_output, "freemobilachat_fr")
    assert min(fast, accurate) > lexicon


def test_intents_are_reported_on_the_real_telecom_tweets(eval_output: str):
    rows = re.findall(r"^  complaint\s+n=(\d+)\s+P=[\d.]+ R=[\d.]+ F1=([\d.]+)", eval_output, re.M)
    assert len(rows) == 2  # one per model
    for support, f1 in rows:
        assert int(support) >= 200 and float(f1) >= 0.85


def sentiment_line(output: str, language: str) -> tuple[float, float]:
    match = re.search(rf"^sentiment {language}\s+n=\d+\s+accuracy=[\d.]+ macro-F1=([\d.]+)\s+\| lexicon "
                      rf"accuracy=[\d.]+ macro-F1=([\d.]+)", output, re.M)  # fmt: skip
    assert match, output
    return float(match.group(1)), float(match.group(2))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_on_the_team_written_set_the_model_beats_the_lexicon(eval_output: str, language: str):
    model, lexicon = sentiment_line(eval_output, language)
    assert model > lexicon + 0.15


def test_confidence_is_calibrated(eval_output: str):
    (error,) = re.findall(r"expected calibration error ([\d.]+)", eval_output)
    assert float(error) <= 0.10


def test_linking_on_the_sample_crm_is_exact(eval_output: str):
    assert re.search(
        r"linking\s+sample n=342 customer-authored=46 linked=46 precision=1.000 recall=1.000", eval_output
    )


def test_training_and_evaluation_texts_never_overlap():
    train = {e.text.strip().casefold() for path in default_training_files() for e in load_examples(path)}
    evaluation = [e for path in DEFAULT_EVAL_FILES for e in load_examples(path)]
    assert len(evaluation) >= 600
    assert sum(e.lang == "fr" for e in evaluation) >= len(evaluation) / 2
    assert not [e.id for e in evaluation if e.text.strip().casefold() in train]


def test_link_scores_count_a_wrong_customer_as_a_miss():
    score = score_links(["C1", "C9", None, "C4"], ["C1", "C2", "C3", None])
    assert (score.gold_links, score.predicted_links, score.correct) == (3, 3, 1)
    assert score.precision == pytest.approx(1 / 3) and score.recall == pytest.approx(1 / 3)


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == 0.0
    assert expected_calibration_error([0.95] * 4, [False] * 4) == pytest.approx(0.95)
