"""DDPM and DDIM samplers against NumPy references and the DDIM paper's identities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.diffusion import linear_schedule
from genjax.families.diffusion.samplers import (
    ddim_coefficients,
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
)

S = linear_schedule(100)
M, SD = 0.5, 0.2  # data ~ N(M, SD^2) per dimension: the exact denoiser is known


def gaussian_denoiser(schedule, calls=None):
    """E[x0 | x_t] for Gaussian data, and the matching eps: the ideal model."""

    def denoise(x, t):
        if calls is not None:
            calls.append(1)
        a = schedule.sqrt_alphas_cumprod(t, x)
        s = schedule.sqrt_one_minus_alphas_cumprod(t, x)
        x0 = M + a * SD**2 / (a**2 * SD**2 + s**2) * (x - a * M)
        return x0, (x - a * x0) / s

    return denoise


def test_ddim_timesteps_are_a_decreasing_subsequence_from_t_minus_1():
    np.testing.assert_array_equal(ddim_timesteps(100, 100), np.arange(99, -1, -1))
    np.testing.assert_array_equal(ddim_timesteps(100, 1), [99])
    ts = ddim_timesteps(1000, 50)
    assert len(ts) == 50 and ts[0] == 999 and ts[-1] == 0 and np.all(np.diff(ts) < 0)
    with pytest.raises(ValueError, match=r"steps must be in \[1, 100\]"):
        ddim_timesteps(100, 101)


def test_ddim_eta1_with_all_steps_has_the_ddpm_posterior_variance():
    betas = np.asarray(S.betas, np.float64)
    abar = np.cumprod(1 - betas)
    beta_tilde = betas[1:] * (1 - abar[:-1]) / (1 - abar[1:])  # t = 1 .. T-1
    c = ddim_coefficients(S, 100, eta=1.0)
    # c["sigma"][i] is the noise of the step from t = 99 - i; the last (t = 0) has none
    np.testing.assert_allclose(c["sigma"][:-1] ** 2, beta_tilde[::-1], rtol=1e-10)
    assert c["sigma"][-1] == 0.0
    np.testing.assert_array_equal(ddim_coefficients(S, 100, eta=0.0)["sigma"], 0.0)


def test_ddim_eta0_is_deterministic_and_matches_the_papers_update_in_float64():
    x_T = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    run = jax.jit(lambda key, eta: ddim_sample(gaussian_denoiser(S), S, x_T, key, 10, eta),
                  static_argnums=1)
    a, b = run(jax.random.PRNGKey(1), 0.0), run(jax.random.PRNGKey(2), 0.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(run(jax.random.PRNGKey(1), 1.0), run(jax.random.PRNGKey(2), 1.0))
    # Song et al. (2021) eq. 12 with sigma = 0, a plain float64 loop
    abar = np.cumprod(1 - np.asarray(S.betas, np.float64))
    x = np.asarray(x_T, np.float64)
    ts = ddim_timesteps(100, 10)
    for i, t in enumerate(ts):
        at = abar[t]
        ap = abar[ts[i + 1]] if i + 1 < len(ts) else 1.0
        x0 = M + np.sqrt(at) * SD**2 / (at * SD**2 + 1 - at) * (x - np.sqrt(at) * M)
        eps = (x - np.sqrt(at) * x0) / np.sqrt(1 - at)
        x = np.sqrt(ap) * x0 + np.sqrt(1 - ap) * eps
    np.testing.assert_allclose(a, x, rtol=1e-4, atol=1e-5)


def test_samplers_trace_the_model_once_and_sample_the_data_distribution():
    calls = []
    n = 4000
    x_T = jax.random.normal(jax.random.PRNGKey(3), (n, 2))
    ddpm = jax.jit(lambda k: ddpm_sample(gaussian_denoiser(S, calls), S, x_T, k))(
        jax.random.PRNGKey(4))
    assert len(calls) == 1  # one lax.scan over the 100 steps, not a Python loop
    ddim = jax.jit(lambda k: ddim_sample(gaussian_denoiser(S, calls), S, x_T, k, 50))(
        jax.random.PRNGKey(5))
    assert len(calls) == 2
    # DDIM with the ideal denoiser keeps the data mean (its 50-step ODE discretisation
    # narrows the spread at this T=100; its exact update is tested against eq. 12 above)
    ddim = np.asarray(ddim, np.float64)
    assert np.all(np.abs(ddim.mean(0) - M) < 5 * SD / np.sqrt(n))
    # DDPM is linear-Gaussian here: x_{t-1} = A_t x_t + B_t + sigma_t z, so its output law is
    # N(m_0, V_0) by the float64 recursion m <- A m + B, V <- A^2 V + sigma^2 (from x_T ~ N(0, 1))
    betas = np.asarray(S.betas, np.float64)
    abar = np.cumprod(1 - betas)
    abar_prev = np.append(1.0, abar[:-1])
    m, v = 0.0, 1.0
    for t in range(99, -1, -1):
        a = np.sqrt(abar[t])
        k = a * SD**2 / (abar[t] * SD**2 + 1 - abar[t])  # x0_hat = M + k (x - a M)
        c1 = betas[t] * np.sqrt(abar_prev[t]) / (1 - abar[t])
        c2 = (1 - abar_prev[t]) * np.sqrt(1 - betas[t]) / (1 - abar[t])
        var_t = betas[t] * (1 - abar_prev[t]) / (1 - abar[t]) if t > 0 else 0.0
        m, v = (c1 * k + c2) * m + c1 * (M - k * a * M), (c1 * k + c2) ** 2 * v + var_t
    ddpm = np.asarray(ddpm, np.float64)
    assert np.all(np.abs(ddpm.mean(0) - m) < 5 * np.sqrt(v / n))
    assert np.all(np.abs(ddpm.var(0) - v) < 5 * v * np.sqrt(2.0 / n))


def test_clipping_keeps_x0_in_range_and_bad_options_are_refused():
    x_T = 10.0 * jnp.ones((2, 3))
    out = ddim_sample(lambda x, t: (x, jnp.zeros_like(x)), S, x_T, jax.random.PRNGKey(0), 5,
                      clip=(-1.0, 1.0))
    assert float(jnp.max(jnp.abs(out))) <= 1.0
    with pytest.raises(ValueError, match="small"):
        ddpm_sample(gaussian_denoiser(S), S, x_T, jax.random.PRNGKey(0), variance="medium")
    with pytest.raises(ValueError, match="eta"):
        ddim_coefficients(S, 10, -0.5)
