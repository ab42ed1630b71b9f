"""Parameterisation conversions and the training loss against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.core.collectives import DATA_AXIS
from genjax.families.diffusion import linear_schedule
from genjax.families.diffusion import losses as L

S = linear_schedule(200)


def _data(seed=0, shape=(6, 3, 3, 2)):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    t = jnp.array([0, 1, 50, 100, 150, 199])
    return jax.random.normal(k1, shape), jax.random.normal(k2, shape), t


def test_conversions_round_trip_among_eps_x0_and_v():
    x0, eps, t = _data()
    xt = S.q_sample(x0, t, eps)
    v = L.velocity(S, x0, t, eps)
    for pred, out in (("eps", eps), ("x0", x0), ("v", v)):
        x0_hat, eps_hat = L.to_x0_eps(S, pred, xt, t, out)
        # eps -> x0 divides by sqrt(abar) (~0.4 at t=199): float32 round-off, loose-ish
        np.testing.assert_allclose(x0_hat, x0, atol=2e-4)
        np.testing.assert_allclose(eps_hat, eps, atol=2e-4 if pred != "x0" else 5e-3)
        np.testing.assert_allclose(L.target(S, pred, x0_hat, t, eps_hat), out, atol=5e-3)


def test_velocity_against_its_definition_in_float64():
    x0, eps, t = _data(1)
    abar = np.cumprod(1 - np.asarray(S.betas))[np.asarray(t)][:, None, None, None]
    v_ref = np.sqrt(abar) * np.asarray(eps, np.float64) - np.sqrt(1 - abar) * np.asarray(x0)
    np.testing.assert_allclose(L.velocity(S, x0, t, eps), v_ref, atol=1e-6)


def test_min_snr_weights_give_x0_weight_min_snr_gamma():
    t = jnp.arange(0, 200, 7)
    abar = np.cumprod(1 - np.asarray(S.betas))[np.asarray(t)]
    snr = abar / (1 - abar)
    gamma = 5.0
    # the x0-space weight each prediction's MSE implies: eps err = snr * x0 err; v err = (1+snr)
    for pred, scale in (("eps", snr), ("x0", np.ones_like(snr)), ("v", snr + 1)):
        implied = np.asarray(L.min_snr_weight(S, pred, t, gamma), np.float64) * scale
        np.testing.assert_allclose(implied, np.minimum(snr, gamma), rtol=1e-4)


def test_loss_is_zero_for_the_oracle_and_the_mean_squared_error_otherwise():
    x0 = jax.random.normal(jax.random.PRNGKey(2), (8, 4))
    key = jax.random.PRNGKey(3)
    # replay the loss's draws to build an oracle that knows the noise
    kt, kn = jax.random.split(key)
    t = jax.random.randint(kt, (8,), 0, 200)
    eps = jax.random.normal(kn, (8, 4))
    oracle = {"eps": eps, "x0": x0, "v": L.velocity(S, x0, t, eps)}
    for pred in L.PREDICTIONS:
        loss, aux = L.diffusion_loss(lambda xt, tt, p=pred: oracle[p], S, x0, key, pred)
        np.testing.assert_array_equal(aux["t"], t)
        assert float(loss) < 1e-10
    loss, _ = L.diffusion_loss(lambda xt, tt: jnp.zeros_like(xt), S, x0, key, "eps")
    np.testing.assert_allclose(loss, np.mean(np.asarray(eps, np.float64) ** 2), rtol=1e-5)


def test_loss_under_pmap_draws_what_one_device_draws():
    x0 = jax.random.normal(jax.random.PRNGKey(4), (8, 3))
    key = jax.random.PRNGKey(5)
    model = lambda xt, t: 0.5 * xt  # noqa: E731
    _, single = L.diffusion_loss(model, S, x0, key, "v", min_snr_gamma=5.0)
    sharded = jax.pmap(lambda x: L.diffusion_loss(model, S, x, key, "v", 5.0)[1],
                       axis_name=DATA_AXIS, devices=jax.devices()[:4])(x0.reshape(4, 2, 3))
    np.testing.assert_array_equal(np.asarray(sharded["t"]).reshape(8), single["t"])
    np.testing.assert_allclose(np.asarray(sharded["mse"]).reshape(8), single["mse"], rtol=1e-6)


def test_unknown_prediction_is_refused():
    with pytest.raises(ValueError, match="choose one of"):
        L.target(S, "score", None, None, None)


def test_lognormal_timestep_probs_discretise_edm_noise_distribution_as_scipy_does():
    from scipy.stats import norm

    from genjax.families.diffusion.schedules import cosine_schedule, lognormal_timestep_probs

    for schedule in (S, cosine_schedule(50)):
        abar = np.cumprod(1.0 - np.asarray(schedule.betas, np.float64))
        log_sigma = np.log(np.sqrt((1.0 - abar) / abar))
        edges = np.concatenate([[-np.inf], (log_sigma[1:] + log_sigma[:-1]) / 2, [np.inf]])
        ref = np.diff(norm.cdf(edges, loc=-2.5, scale=1.5))
        probs = lognormal_timestep_probs(schedule, -2.5, 1.5)
        np.testing.assert_allclose(probs, ref, rtol=1e-9, atol=1e-15)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="p_std must be > 0"):
        lognormal_timestep_probs(S, 0.0, 0.0)


def test_loss_draws_timesteps_from_the_given_probabilities():
    from scipy.stats import chisquare

    from genjax.families.diffusion.schedules import lognormal_timestep_probs

    schedule = linear_schedule(12)
    probs = lognormal_timestep_probs(schedule, -0.5, 1.0)
    x0 = jnp.zeros((40_000, 2))
    _, aux = L.diffusion_loss(lambda xt, t: xt, schedule, x0, jax.random.PRNGKey(0), "eps",
                              timestep_probs=probs)
    counts = np.bincount(np.asarray(aux["t"]), minlength=12)
    assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    assert counts[0] > 3 * counts[-1]  # far from uniform: the small noise levels dominate
    with pytest.raises(ValueError, match=r"timestep_probs must have shape \(12,\)"):
        L.diffusion_loss(lambda xt, t: xt, schedule, x0[:4], jax.random.PRNGKey(0), "eps",
                         timestep_probs=probs[:5])
