from nlp.evaluate import score_labels


def test_scores_count_accuracy_and_f1_per_class():
    score = score_labels(
        ["negative", "negative", "positive", "neutral"], ["negative", "positive", "positive", "neutral"]
    )
    assert (score.total, score.correct, score.accuracy) == (4, 3, 0.75)
    # negative: p=1, r=0.5 -> 0.667; positive: p=0.5, r=1 -> 0.667; neutral: 1.0
    assert score.per_class == {"negative": 0.667, "neutral": 1.0, "positive": 0.667}
    assert score.macro_f1 == 0.778
