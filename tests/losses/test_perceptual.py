"""Perceptual losses against float64 NumPy written from their definitions (loops, no einsum)."""

from __future__ import annotations

import numpy as np
import pytest

from genjax.losses import perceptual as P

RNG = np.random.default_rng(0)


def _gram_reference(f: np.ndarray) -> np.ndarray:
    """G[b, c, d] = sum over positions of f[b, ., ., c] f[b, ., ., d], divided by C H W."""
    b, h, w, c = f.shape
    g = np.zeros((b, c, c))
    for i in range(h):
        for j in range(w):
            v = f[:, i, j, :].astype(np.float64)
            g += v[:, :, None] * v[:, None, :]
    return g / (c * h * w)


def test_gram_matrix_matches_float64_reference():
    f = RNG.normal(size=(2, 5, 7, 6)).astype(np.float32)
    got = np.asarray(P.gram_matrix(f))
    np.testing.assert_allclose(got, _gram_reference(f), rtol=1e-5, atol=1e-6)
    assert np.allclose(got, got.transpose(0, 2, 1))  # symmetric
    with pytest.raises(ValueError, match=r"\(B, H, W, C\)"):
        P.gram_matrix(f[0])


def test_content_loss_matches_float64_reference():
    a, b = RNG.normal(size=(2, 2, 3, 4, 5)).astype(np.float32)
    want = np.sum((a.astype(np.float64) - b) ** 2) / a.size
    np.testing.assert_allclose(float(P.content_loss(a, b)), want, rtol=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        P.content_loss(a, b[:, :2])


def test_style_loss_matches_float64_reference():
    feats = {"relu1_1": RNG.normal(size=(1, 6, 6, 3)), "relu2_1": RNG.normal(size=(1, 3, 3, 4))}
    style = {"relu1_1": RNG.normal(size=(1, 6, 6, 3)), "relu2_1": RNG.normal(size=(1, 5, 4, 4))}
    feats = {k: v.astype(np.float32) for k, v in feats.items()}
    targets = {k: _gram_reference(v) for k, v in style.items()}
    weights = {"relu1_1": 0.3, "relu2_1": 2.0}
    want = sum(w * np.mean((_gram_reference(feats[k]) - targets[k]) ** 2)
               for k, w in weights.items())
    got = float(P.style_loss(feats, {k: v.astype(np.float32) for k, v in targets.items()},
                             weights))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    unweighted = sum(np.mean((_gram_reference(feats[k]) - targets[k]) ** 2) for k in targets)
    np.testing.assert_allclose(float(P.style_loss(feats, targets)), unweighted, rtol=1e-5)
    assert float(P.style_loss(style, targets)) < 1e-10  # its own Gram matrices: zero
    with pytest.raises(ValueError, match="relu3_1 have no features"):
        P.style_loss(feats, {**targets, "relu3_1": targets["relu2_1"]})


def test_total_variation_matches_float64_reference():
    x = RNG.uniform(size=(2, 4, 5, 3)).astype(np.float32)
    b, h, w, c = x.shape
    vertical = sum((float(x[n, i + 1, j, k]) - float(x[n, i, j, k])) ** 2
                   for n in range(b) for i in range(h - 1) for j in range(w) for k in range(c))
    horizontal = sum((float(x[n, i, j + 1, k]) - float(x[n, i, j, k])) ** 2
                     for n in range(b) for i in range(h) for j in range(w - 1) for k in range(c))
    want = vertical / (b * (h - 1) * w * c) + horizontal / (b * h * (w - 1) * c)
    np.testing.assert_allclose(float(P.total_variation(x)), want, rtol=1e-5)
    assert float(P.total_variation(np.ones((1, 3, 3, 3), np.float32))) == 0.0
    with pytest.raises(ValueError, match="H, W >= 2"):
        P.total_variation(x[:, :1])
