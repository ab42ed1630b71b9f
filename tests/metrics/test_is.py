"""Inception Score on closed-form cases and against a float64 NumPy reference."""

import numpy as np
import pytest

from genjax.metrics import inception_score


def test_uniform_predictions_give_one():
    mean, std = inception_score(np.full((100, 10), 0.1), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_one_hot_equally_used_classes_give_k():
    k = 7
    probs = np.eye(k)[np.tile(np.arange(k), 20)]  # every split of 14 rows: 2 of each class
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_matches_reference_formula_with_uneven_splits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(103, 6)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    scores = []
    for i in range(4):  # the openai/improved-gan split rule
        part = probs[i * 103 // 4:(i + 1) * 103 // 4]
        py = part.mean(0)
        scores.append(np.exp(np.mean([np.sum(p * np.log(p / py)) for p in part])))
    mean, std = inception_score(probs, splits=4)
    assert mean == pytest.approx(np.mean(scores), rel=1e-12)
    assert std == pytest.approx(np.std(scores), rel=1e-9)


def test_logits_are_rejected():
    with pytest.raises(ValueError, match="softmax"):
        inception_score(np.random.default_rng(0).normal(size=(10, 3)))
