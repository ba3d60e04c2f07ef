"""The shipped model against the shipped held-out evaluation set: the quality bar MODEL_CARD.md states."""

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
        [sys.executable, "-m", "ecoute", "nlp", "eval", "--config", str(ROOT / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def sentiment_line(output: str, language: str) -> tuple[float, float]:
    match = re.search(rf"^sentiment {language}\s+n=\d+\s+accuracy=[\d.]+ macro-F1=([\d.]+)\s+\| lexicon "
                      rf"accuracy=[\d.]+ macro-F1=([\d.]+)", output, re.M)  # fmt: skip
    assert match, output
    return float(match.group(1)), float(match.group(2))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_sentiment_reaches_the_bar_and_beats_the_lexicon(eval_output: str, language: str):
    model, lexicon = sentiment_line(eval_output, language)
    assert model >= 0.70
    assert model > lexicon


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
