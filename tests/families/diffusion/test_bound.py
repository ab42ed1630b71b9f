"""The variational bound: decoder, prior and assembly against SciPy float64 formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import norm

from genjax.families.diffusion import bound as L
from genjax.families.diffusion import linear_schedule


def _discretized_ref(x, mean, sd):
    """P(bin of x) for N(mean, sd^2): edge bins open, float64, SciPy."""
    lo = np.where(x < -0.999, -np.inf, x - 1 / 255)
    hi = np.where(x > 0.999, np.inf, x + 1 / 255)
    return np.log(norm.cdf(hi, mean, sd) - norm.cdf(lo, mean, sd))


def test_discretized_decoder_matches_scipy_and_sums_to_one():
    levels = np.arange(256) / 127.5 - 1.0
    for mean, sd in ((0.1, 0.02), (-0.97, 0.01), (0.99, 0.003), (0.0, 0.5), (0.7, 0.0035)):
        got = np.asarray(L.discretized_gaussian_log_likelihood(
            jnp.asarray(levels, jnp.float32), mean, np.float32(np.log(sd))), np.float64)
        ref = _discretized_ref(levels, mean, sd)
        keep = ref > np.log(1e-6)  # bins with real mass: float32 relative accuracy there
        np.testing.assert_allclose(got[keep], ref[keep], rtol=1e-4, atol=1e-4)
        assert np.all(got[~keep] <= np.log(1e-6) + 1e-3)
        np.testing.assert_allclose(np.exp(ref).sum(), 1.0, rtol=1e-9)
        np.testing.assert_allclose(np.exp(got).sum(), 1.0, atol=2e-4)


def test_normal_kl_against_a_monte_carlo_free_closed_form():
    m1, lv1, m2, lv2 = 0.3, np.log(0.2), -0.1, np.log(0.5)
    s1, s2 = np.sqrt(0.2), np.sqrt(0.5)
    ref = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    np.testing.assert_allclose(L.normal_kl(m1, lv1, m2, lv2), ref, rtol=1e-6)


def test_bound_of_an_oracle_denoiser_is_prior_plus_decoder_in_bits_per_dim():
    """Knowing x0, every t >= 1 KL vanishes; L_0 is the bin mass under N(x0, beta_tilde_1)."""
    s = linear_schedule(40)
    rng = np.random.default_rng(0)
    x0 = (rng.integers(0, 256, size=(3, 4, 4, 1)) / 127.5 - 1.0).astype(np.float32)
    x0 = jnp.asarray(x0)

    def oracle(xt, t):
        a = s.sqrt_alphas_cumprod(t, xt)
        return x0, (xt - a * x0) / s.sqrt_one_minus_alphas_cumprod(t, xt)

    betas = np.asarray(s.betas, np.float64)
    abar = np.cumprod(1 - betas)
    var1 = betas[1] * (1 - abar[0]) / (1 - abar[1])
    x = np.asarray(x0, np.float64)
    decoder = -_discretized_ref(x, x, np.sqrt(var1)).reshape(3, -1).mean(1) / np.log(2)
    aT, vT = np.sqrt(abar[-1]) * x, 1 - abar[-1]
    prior = (0.5 * (-1 - np.log(vT) + vT + aT**2)).reshape(3, -1).mean(1) / np.log(2)
    for num in (0, 7):
        out = jax.jit(lambda k, n=num: L.variational_bound(oracle, s, x0, k, clip=(-1, 1),
                                                           num_timesteps=n))(
            jax.random.PRNGKey(1))
        np.testing.assert_allclose(out["terms"], 0.0, atol=1e-4)
        np.testing.assert_allclose(out["decoder"], decoder, rtol=1e-4)
        np.testing.assert_allclose(out["prior"], prior, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(out["total"], prior + decoder, rtol=1e-4, atol=1e-4)


def test_bound_timesteps_exact_by_default_and_a_weighted_quadrature_on_request():
    ts, w = L.bound_timesteps(1000)
    np.testing.assert_array_equal(ts, np.arange(1, 1000))
    assert w == 1.0
    ts, w = L.bound_timesteps(1000, 100)
    assert len(ts) == 100 and ts[0] == 1 and ts[-1] == 999 and w == pytest.approx(9.99)
    with pytest.raises(ValueError, match="decoder"):
        L.vb_term(None, linear_schedule(4), jnp.zeros((1, 2)), jnp.zeros((1,), jnp.int32),
                  jnp.zeros((1, 2)), decoder="laplace")
