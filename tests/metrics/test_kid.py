"""KID against a float64 NumPy loop implementation of the unbiased polynomial MMD^2."""

import numpy as np
import pytest

from genjax.metrics import kid


def _mmd2_unbiased_loop(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, by explicit loops over pairs."""
    m, d = x.shape
    k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return kxx / (m * (m - 1)) + kyy / (m * (m - 1)) - 2.0 * kxy / (m * m)


def _reference_kid(a, b, num_subsets, subset_size, seed):
    """Same subset draws as documented: one NumPy generator, a's rows then b's per subset."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(num_subsets):
        ia = rng.choice(len(a), subset_size, replace=False)
        ib = rng.choice(len(b), subset_size, replace=False)
        vals.append(_mmd2_unbiased_loop(a[ia], b[ib]))
    return np.mean(vals), np.std(vals)


def test_kid_matches_numpy_loop():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 8)).astype(np.float32)
    b = (rng.normal(size=(35, 8)) * 1.3 + 0.4).astype(np.float32)
    mean, std = kid(a, b, num_subsets=4, subset_size=20, seed=7)
    ref_mean, ref_std = _reference_kid(a.astype(np.float64), b.astype(np.float64), 4, 20, 7)
    assert mean == pytest.approx(ref_mean, rel=1e-4)
    assert std == pytest.approx(ref_std, rel=1e-3)
    assert mean > 0.05  # clearly different distributions


def test_kid_full_set_is_exact_mmd_and_unbiased_near_zero_for_same_distribution():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(30, 6))
    b = rng.normal(size=(30, 6))
    # subset_size >= N: clamped to 30, so every subset is the whole set (std 0).
    mean, std = kid(a, b, num_subsets=2, subset_size=1000)
    assert mean == pytest.approx(_mmd2_unbiased_loop(a, b), rel=1e-4, abs=1e-6)
    assert std == pytest.approx(0.0, abs=1e-6)
    # Same distribution: the unbiased estimate is centred on 0 (averaged over subsets).
    big_a, big_b = rng.normal(size=(400, 6)), rng.normal(size=(400, 6))
    m, s = kid(big_a, big_b, num_subsets=20, subset_size=100, seed=0)
    assert abs(m) < 3 * s / np.sqrt(20) + 1e-3


def test_kid_bad_input():
    with pytest.raises(ValueError, match="one D"):
        kid(np.ones((5, 3)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        kid(np.ones((1, 3)), np.ones((5, 3)))
