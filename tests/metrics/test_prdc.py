"""Precision/recall and density/coverage against a brute-force float64 NumPy implementation."""

import numpy as np
import pytest

from genjax.metrics import density_coverage, prdc, precision_recall


def _brute_force(real, fake, k):
    """The prdc package's definitions, written with explicit pairwise loops."""
    dist = lambda a, b: np.sqrt(np.sum((a - b) ** 2))
    def radii(x):
        out = []
        for i in range(len(x)):
            ds = sorted(dist(x[i], x[j]) for j in range(len(x)) if j != i)
            out.append(ds[k - 1])  # k-th nearest other point
        return np.array(out)
    rr, fr = radii(real), radii(fake)
    d = np.array([[dist(r, f) for f in fake] for r in real])  # (N, M)
    precision = np.mean([any(d[i, j] < rr[i] for i in range(len(real)))
                         for j in range(len(fake))])
    recall = np.mean([any(d[i, j] < fr[j] for j in range(len(fake)))
                      for i in range(len(real))])
    density = sum(d[i, j] < rr[i] for i in range(len(real))
                  for j in range(len(fake))) / (k * len(fake))
    coverage = np.mean([d[i].min() < rr[i] for i in range(len(real))])
    return precision, recall, density, coverage


@pytest.mark.parametrize("k,chunk", [(5, 1024), (3, 7)])
def test_prdc_matches_brute_force(k, chunk):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(60, 4))
    fake = rng.normal(size=(45, 4)) * 0.8 + 1.0
    p, r, d, c = _brute_force(real, fake, k)
    out = prdc(real, fake, k=k, chunk_size=chunk)
    assert out["precision"] == pytest.approx(p, abs=1e-12)
    assert out["recall"] == pytest.approx(r, abs=1e-12)
    assert out["density"] == pytest.approx(d, abs=1e-12)
    assert out["coverage"] == pytest.approx(c, abs=1e-12)
    assert precision_recall(real, fake, k=k, chunk_size=chunk) == pytest.approx((p, r))
    assert density_coverage(real, fake, k=k, chunk_size=chunk) == pytest.approx((d, c))
    assert 0 < p < 1 and 0 < r < 1 and 0 < c < 1  # a case that discriminates


def test_far_apart_sets_score_zero():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(20, 3)), rng.normal(size=(20, 3)) + 100.0
    assert prdc(real, fake, k=2) == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0})


def test_k_too_large():
    with pytest.raises(ValueError, match="smaller k"):
        prdc(np.zeros((5, 2)), np.zeros((9, 2)), k=5)
