"""Schedules, q(x_t | x_0) and q(x_{t-1} | x_t, x_0) against NumPy float64 formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.diffusion import cosine_schedule, linear_schedule, make_schedule


def _reference(betas):
    """The DDPM quantities written out from the paper, 1-based in the paper, 0-based here."""
    betas = np.asarray(betas, np.float64)
    abar = np.array([np.prod(1.0 - betas[: i + 1]) for i in range(len(betas))])
    abar_prev = np.concatenate([[1.0], abar[:-1]])
    var = betas * (1.0 - abar_prev) / (1.0 - abar)
    c1 = betas * np.sqrt(abar_prev) / (1.0 - abar)
    c2 = (1.0 - abar_prev) * np.sqrt(1.0 - betas) / (1.0 - abar)
    return abar, var, c1, c2


def test_linear_schedule_at_t1000_is_the_ddpm_linspace():
    s = linear_schedule(1000)
    np.testing.assert_allclose(s.betas_np, np.linspace(1e-4, 0.02, 1000), rtol=0, atol=1e-15)
    assert s.num_timesteps == 1000


def test_cosine_schedule_follows_the_cosine_alpha_bar():
    T, s_off = 50, 0.008
    s = cosine_schedule(T)
    f = np.cos((np.arange(T + 1) / T + s_off) / (1 + s_off) * np.pi / 2) ** 2
    # abar_t = f(t+1)/f(0) wherever no beta is clipped (all but the last step here)
    np.testing.assert_allclose(s.alphas_cumprod_np[:-1], (f[1:] / f[0])[:-1], rtol=1e-12)
    assert s.betas_np[-1] == pytest.approx(0.999)


@pytest.mark.parametrize("kind,T", [("linear", 37), ("cosine", 20), ("linear", 1000)])
def test_posterior_tables_match_the_float64_formulas(kind, T):
    s = make_schedule(kind, T)
    abar, var, c1, c2 = _reference(s.betas)
    np.testing.assert_allclose(s.alphas_cumprod_np, abar, rtol=1e-12)
    np.testing.assert_allclose(s.posterior_variance_np, var, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(s.posterior_mean_coef1_np, c1, rtol=1e-10)
    np.testing.assert_allclose(s.posterior_mean_coef2_np, c2, rtol=1e-10)
    np.testing.assert_allclose(s.posterior_log_variance_clipped_np,
                               np.log(np.concatenate([[var[1]], var[1:]])), rtol=1e-12)


def test_q_sample_has_the_forward_mean_and_variance():
    s = linear_schedule(100)
    abar, *_ = _reference(s.betas)
    t = np.array([0, 10, 50, 99])
    x0 = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
    n = 200_000
    noise = jax.random.normal(jax.random.PRNGKey(0), (n, 4))
    xt = np.asarray(s.q_sample(jnp.broadcast_to(x0, (n, 4)), jnp.broadcast_to(t, (n, 4)), noise),
                    np.float64)
    # sample moments within 5 standard errors of the closed forms
    mean_ref, var_ref = np.sqrt(abar[t]) * x0, 1.0 - abar[t]
    assert np.all(np.abs(xt.mean(0) - mean_ref) < 5 * np.sqrt(var_ref / n))
    assert np.all(np.abs(xt.var(0) - var_ref) < 5 * var_ref * np.sqrt(2.0 / n))
    mean, variance, log_variance = s.q_mean_variance(jnp.asarray(x0)[None], jnp.asarray(t)[None])
    np.testing.assert_allclose(np.asarray(mean)[0], mean_ref, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(variance)[0], var_ref, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(log_variance)[0], np.log(var_ref), rtol=1e-5)


def test_q_posterior_is_the_gaussian_product_of_forward_and_prior():
    """Independent route: q(x_{t-1}|x_t,x_0) from Bayes' rule on the two Gaussians."""
    s = cosine_schedule(30)
    abar, *_ = _reference(s.betas)
    rng = np.random.default_rng(0)
    x0, xt = rng.normal(size=(3, 2, 2, 1)), rng.normal(size=(3, 2, 2, 1))
    t = np.array([1, 7, 29])
    beta = s.betas_np[t][:, None, None, None]
    ab_prev = abar[t - 1][:, None, None, None]
    # prior x_{t-1} ~ N(sqrt(ab_prev) x0, 1-ab_prev); likelihood x_t ~ N(sqrt(1-beta) x_{t-1}, beta)
    prec = 1.0 / (1.0 - ab_prev) + (1.0 - beta) / beta
    mean_ref = (np.sqrt(ab_prev) * x0 / (1.0 - ab_prev) + np.sqrt(1.0 - beta) * xt / beta) / prec
    mean, var, _ = s.q_posterior(jnp.asarray(x0, jnp.float32), jnp.asarray(xt, jnp.float32),
                                 jnp.asarray(t))
    np.testing.assert_allclose(np.asarray(mean), mean_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(var)[:, 0, 0, 0], 1.0 / prec[:, 0, 0, 0], rtol=1e-5)


def test_bad_schedules_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="num_timesteps"):
        linear_schedule(0)
    with pytest.raises(ValueError, match="unknown noise schedule 'quad'"):
        make_schedule("quad", 10)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        from genjax.families.diffusion import NoiseSchedule
        NoiseSchedule((0.1, 1.5))
