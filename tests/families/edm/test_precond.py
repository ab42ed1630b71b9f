"""EDM's preconditioning, loss weight, sigma distribution and loss vs float64 NumPy formulas."""

import jax
import jax.numpy as jnp
import numpy as np

from genjax.families.edm.precond import (
    edm_loss,
    loss_weight,
    preconditioning,
    sample_sigmas,
)

SIGMAS = np.array([0.002, 0.05, 0.3, 0.5, 1.0, 2.7, 14.0, 80.0])


def test_coefficients_match_table_1_in_float64():
    for sd in (0.5, 1.3):
        got = [np.asarray(c, np.float64) for c in preconditioning(jnp.asarray(SIGMAS), sd)]
        s = SIGMAS
        want = [sd**2 / (s**2 + sd**2), s * sd / np.sqrt(s**2 + sd**2),
                1.0 / np.sqrt(s**2 + sd**2), np.log(s) / 4.0]
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-7)
        lam = np.asarray(loss_weight(jnp.asarray(SIGMAS), sd), np.float64)
        np.testing.assert_allclose(lam, (s**2 + sd**2) / (s * sd) ** 2, rtol=2e-6)


def test_weighted_targets_have_unit_weight_and_variance():
    """lambda c_out^2 = 1, c_in x has unit variance and the network's target
    (y - c_skip (y + sigma n)) / c_out too, for data of std sigma_data (float64 algebra)."""
    sd, s = 0.5, SIGMAS
    c_skip = sd**2 / (s**2 + sd**2)
    c_out = s * sd / np.sqrt(s**2 + sd**2)
    lam = np.asarray(loss_weight(jnp.asarray(s), sd), np.float64)
    np.testing.assert_allclose(lam * c_out**2, 1.0, rtol=1e-5)
    target_var = ((1 - c_skip) ** 2 * sd**2 + c_skip**2 * s**2) / c_out**2
    np.testing.assert_allclose(target_var, 1.0, rtol=1e-12)


def test_sigmas_are_log_normal():
    sig = np.asarray(sample_sigmas(jax.random.PRNGKey(0), 20000, -1.2, 1.2), np.float64)
    ln = np.log(sig)
    assert abs(ln.mean() + 1.2) < 4 * 1.2 / np.sqrt(20000)
    assert abs(ln.std() - 1.2) < 0.03


def test_loss_matches_numpy_on_fixed_inputs():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(5, 3, 2)).astype(np.float32)
    n = rng.normal(size=(5, 3, 2)).astype(np.float32)
    sigma = np.array([0.01, 0.2, 1.0, 3.0, 40.0], np.float32)

    def denoise(x, s):  # any fixed function of (x, sigma)
        return 0.3 * x + 0.1 * jnp.log(s)[:, None, None]

    got = float(edm_loss(denoise, jnp.asarray(y), jnp.asarray(n), jnp.asarray(sigma), 0.5))
    y64, n64, s64 = (a.astype(np.float64) for a in (y, n, sigma))
    x = y64 + s64[:, None, None] * n64
    err = (0.3 * x + 0.1 * np.log(s64)[:, None, None] - y64) ** 2
    lam = (s64**2 + 0.25) / (s64 * 0.5) ** 2
    np.testing.assert_allclose(got, np.mean(lam * err.mean(axis=(1, 2))), rtol=1e-5)
