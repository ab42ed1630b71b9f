"""Adaptive ODE solvers (diffrax dopri5 / tsit5) against closed forms; NFE as counted."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from genjax.families.flow.samplers import integrate_adaptive, log_likelihood
from tests.families.flow.test_likelihood import MU, L, gaussian_logpdf, model

A = np.array([[-0.5, 2.0], [-2.0, -0.5]])  # a damped rotation


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("solver", ["dopri5", "tsit5"])
def test_linear_ode_matches_expm_and_tighter_tolerances_cost_more(x64, solver):
    x0 = np.random.default_rng(0).normal(size=(8, 2))
    want = x0 @ scipy.linalg.expm(A).T
    calls = []

    def v(x, t):
        jax.debug.callback(lambda: calls.append(1))
        return x @ jnp.asarray(A).T

    errors, nfes = [], []
    for tol in (1e-3, 1e-6, 1e-9):
        calls.clear()
        x1, stats = jax.jit(lambda x, tol=tol: integrate_adaptive(v, x, solver, tol, tol))(
            jnp.asarray(x0))
        jax.block_until_ready(x1)
        assert x1.dtype == jnp.float64
        errors.append(np.max(np.abs(np.asarray(x1) - want)))
        nfes.append(int(stats["nfe"]))
        # the reported NFE is what ran, up to one re-evaluation per rejected step
        assert int(stats["nfe"]) <= len(calls) <= int(stats["nfe"]) + int(stats["rejected"])
        assert errors[-1] < 100 * tol, (tol, errors[-1])
    assert errors[0] > errors[1] > errors[2] and nfes[0] < nfes[1] < nfes[2], (errors, nfes)


def test_reported_nfe_brackets_the_count_with_many_rejections(x64):
    calls = []

    def v(x, t):  # stiff and oscillating, started with too large a step: many rejections
        jax.debug.callback(lambda: calls.append(1))
        return -30.0 * (1.0 + 10.0 * jnp.sin(20.0 * t)) * x

    _, stats = jax.jit(lambda x: integrate_adaptive(v, x, "dopri5", 1e-3, 1e-3))(
        jnp.ones((4,), jnp.float64))
    jax.block_until_ready(stats)
    assert int(stats["rejected"]) > 5
    assert int(stats["nfe"]) <= len(calls) <= int(stats["nfe"]) + int(stats["rejected"])


def test_time_dependent_ode_sees_the_right_times(x64):
    # dx/dt = -2 t x: x(1) = x(0) / e
    x1, _ = integrate_adaptive(lambda x, t: -2.0 * t * x, jnp.ones((3,), jnp.float64),
                               "dopri5", 1e-8, 1e-8)
    np.testing.assert_allclose(x1, np.exp(-1.0), rtol=1e-6)


def test_flow_samples_and_likelihood_through_dopri5():
    objective = model(rtol=1e-5, atol=1e-5)
    state = objective.init(jax.random.PRNGKey(0), {"point": jnp.zeros((4, 2))})
    samples, stats = objective.sample_with_stats(state, jax.random.PRNGKey(1), 20_000,
                                                 solver="dopri5")
    samples = np.asarray(samples, np.float64)
    np.testing.assert_allclose(samples.mean(0), MU, atol=0.03)
    np.testing.assert_allclose(np.cov(samples.T), L @ L.T, atol=0.05)
    assert int(stats["nfe"]) >= 7 and int(stats["accepted"]) >= 1
    tsit5 = objective.sample(state, jax.random.PRNGKey(1), 64, solver="tsit5")
    dopri5 = objective.sample(state, jax.random.PRNGKey(1), 64, solver="dopri5")
    np.testing.assert_allclose(tsit5, dopri5, atol=1e-3)  # same noise, same ODE
    x = MU + jax.random.normal(jax.random.PRNGKey(2), (64, 2)) @ jnp.asarray(L.T, jnp.float32)
    got = log_likelihood(objective.velocity(state.ema_params), x, 1, "dopri5", rtol=1e-5,
                         atol=1e-5)
    np.testing.assert_allclose(got, gaussian_logpdf(x, MU, L @ L.T), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="--rtol and --atol must be > 0"):
        objective.sample(state, jax.random.PRNGKey(1), 4, solver="dopri5", rtol=0.0)
    with pytest.raises(ValueError, match="unknown solver 'rk45'"):
        objective.sample(state, jax.random.PRNGKey(1), 4, solver="rk45")
