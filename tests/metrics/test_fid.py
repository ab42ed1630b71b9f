"""FID and streaming statistics against SciPy/NumPy float64 references and closed forms."""

import numpy as np
import pytest
import scipy.linalg

from genjax.metrics import (
    FeatureStats,
    fid_from_features,
    fid_from_stats,
    frechet_distance,
    load_moments,
    load_stats,
    save_stats,
    stats_from_batches,
)


def _scipy_fid(mu1, s1, mu2, s2):
    """The pytorch-fid formula: scipy.linalg.sqrtm of S1 S2, real part."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def _random_gaussian_sets(seed, n=400, d=16):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    b = rng.normal(size=(n + 50, d)) @ rng.normal(size=(d, d)) * 0.7 + 2.0
    return a, b


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_matches_scipy_sqrtm(seed):
    a, b = _random_gaussian_sets(seed)
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    ref = _scipy_fid(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    assert fid_from_features(a, b) == pytest.approx(ref, rel=1e-6)


def test_identical_sets_give_zero():
    a, _ = _random_gaussian_sets(3)
    assert abs(fid_from_features(a, a)) < 1e-8


def test_commuting_covariances_analytic_value():
    mu1, mu2 = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, 0.5])
    va, vb = np.array([4.0, 1.0, 0.25]), np.array([1.0, 9.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2)
    got = frechet_distance(mu1, np.diag(va), mu2, np.diag(vb))
    assert got == pytest.approx(expected, rel=1e-12)


def test_singular_covariance_fewer_samples_than_dims():
    # 10 samples in 32 dims: S1 S2 is singular; the eigenvalue form needs no offset.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(12, 32)) + 0.3
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    # Independent reference: Tr((S1 S2)^1/2) = sum of sqrt of the eigenvalues of S1 S2.
    eig = np.linalg.eigvals(s1 @ s2).real
    ref = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(
        np.clip(eig, 0, None)).sum()
    got = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(got) and got == pytest.approx(ref, rel=1e-6)


def test_streaming_uneven_chunks_equal_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(203, 7)) * 3.0 + 1e4  # large mean: no cancellation allowed
    stats = FeatureStats.empty(7)
    for lo, hi in [(0, 1), (1, 50), (50, 51), (51, 51), (51, 203)]:
        stats = stats.update(x[lo:hi])
    assert stats.count == 203
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov(), np.cov(x, rowvar=False), rtol=1e-9)
    merged = FeatureStats.from_features(x[:77]).merge(FeatureStats.from_features(x[77:]))
    np.testing.assert_allclose(merged.cov(), np.cov(x, rowvar=False), rtol=1e-9)


def test_update_is_pure():
    s0 = FeatureStats.empty(3)
    s1 = s0.update(np.ones((4, 3)))
    assert s0.count == 0 and s1.count == 4 and not s0.mean.any()


def test_stats_from_batches_with_jitted_features():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    w = rng.normal(size=(5, 4)).astype(np.float32)
    data = rng.normal(size=(37, 5)).astype(np.float32)
    feature_fn = jax.jit(lambda x: jnp.tanh(x @ w))
    batches = (data[i:i + 8] for i in range(0, len(data), 8))  # last batch has 5 rows
    stats = stats_from_batches(feature_fn, batches)
    feats = np.tanh(data.astype(np.float64) @ w.astype(np.float64))
    assert stats.count == 37
    np.testing.assert_allclose(stats.mean, feats.mean(0), atol=1e-6)
    np.testing.assert_allclose(stats.cov(), np.cov(feats, rowvar=False), atol=1e-6)
    with pytest.raises(ValueError, match="no batches"):
        stats_from_batches(feature_fn, iter(()))


def test_save_load_roundtrip_and_pytorch_fid_files(tmp_path):
    a, b = _random_gaussian_sets(4, n=100, d=6)
    sa, sb = FeatureStats.from_features(a), FeatureStats.from_features(b)
    path = save_stats(tmp_path / "a", sa)
    assert path.suffix == ".npz"
    loaded = load_stats(path)
    assert loaded.count == 100
    assert fid_from_stats(loaded, sb) == pytest.approx(fid_from_features(a, b), rel=1e-10)
    # A pytorch-fid file (mu and sigma only) gives FID through load_moments.
    np.savez(tmp_path / "ref.npz", mu=b.mean(0), sigma=np.cov(b, rowvar=False))
    mu, sigma = load_moments(tmp_path / "ref.npz")
    assert frechet_distance(*load_moments(path), mu, sigma) == pytest.approx(
        _scipy_fid(a.mean(0), np.cov(a, rowvar=False), mu, sigma), rel=1e-6)
    with pytest.raises(ValueError, match="load_moments"):
        load_stats(tmp_path / "ref.npz")


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="2D array"):
        FeatureStats.empty(3).update(np.ones(3))
    with pytest.raises(ValueError, match="feature dimension"):
        FeatureStats.empty(3).update(np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats.from_features(np.ones((1, 3))).cov()
    with pytest.raises(ValueError, match="one D"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
