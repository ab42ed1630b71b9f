"""DPM-Solver++(2M) against the closed-form probability-flow ODE of Gaussian data and DDIM."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.diffusion import NoiseSchedule, linear_schedule
from genjax.families.diffusion.samplers import (
    ddim_sample,
    ddim_timesteps,
    dpm_solver_pp_sample,
    dpm_solver_timesteps,
)

S = linear_schedule(1000)
M, SD = 0.5, 0.2  # data ~ N(M, SD^2) per dimension


def log_snr_schedule(num: int, lo: float = -5.0, hi: float = 5.0) -> NoiseSchedule:
    """A schedule whose log-SNR falls linearly from ``hi`` at t=0 to ``lo`` at t=num-1.

    On it the log-SNR-uniform timesteps are exact integers when (num-1)/(steps-1) is, and
    the integer grid is fine everywhere (DDPM's linear schedule jumps by 0.5 in log-SNR
    between t=0 and t=1, which bounds how close any sampler on it can get to the ODE).
    """
    abar = 1.0 / (1.0 + np.exp(-2.0 * np.linspace(hi, lo, num)))  # sigmoid(2 lambda)
    betas = 1.0 - abar / np.append(1.0, abar[:-1])
    return NoiseSchedule(tuple(float(b) for b in betas), name="log-snr")


FINE = log_snr_schedule(1601)


def gaussian_denoiser(schedule, calls=None):
    """E[x0 | x_t] for Gaussian data and the matching eps: the ideal model."""

    def denoise(x, t):
        if calls is not None:
            calls.append(1)
        a = schedule.sqrt_alphas_cumprod(t, x)
        s = schedule.sqrt_one_minus_alphas_cumprod(t, x)
        x0 = M + a * SD**2 / (a**2 * SD**2 + s**2) * (x - a * M)
        return x0, (x - a * x0) / s

    return denoise


def exact_endpoint(x_T: np.ndarray, schedule: NoiseSchedule = S) -> np.ndarray:
    """The probability-flow ODE from t = T-1 to t = 0 in float64, then E[x0 | x_t0].

    The marginals are N(a_t M, a_t^2 SD^2 + s_t^2) and the ODE's flow map between Gaussians is
    the monotone affine one, so the standardised value z is constant along a path.
    """
    abar = np.cumprod(1 - np.asarray(schedule.betas, np.float64))
    a_T, a_0 = np.sqrt(abar[-1]), np.sqrt(abar[0])
    z = (x_T - a_T * M) / np.sqrt(abar[-1] * SD**2 + 1 - abar[-1])
    return M + a_0 * SD**2 * z / np.sqrt(abar[0] * SD**2 + 1 - abar[0])


def run(x_T, steps, order=2, timesteps=None, calls=None, schedule=S):
    return np.asarray(jax.jit(lambda x: dpm_solver_pp_sample(
        gaussian_denoiser(schedule, calls), schedule, x, steps, order=order,
        timesteps=timesteps))(x_T), np.float64)


X_T = jax.random.normal(jax.random.PRNGKey(0), (256, 2))


def test_timesteps_are_uniform_in_log_snr_and_strictly_decreasing():
    abar = np.cumprod(1 - np.asarray(S.betas, np.float64))
    lam = 0.5 * np.log(abar / (1 - abar))
    for steps in (1, 2, 5, 20, 100, 999, 1000):
        t = dpm_solver_timesteps(S, steps)
        assert t.shape == (steps,) and t[0] == 999 and np.all(np.diff(t) < 0)
        if steps > 1:
            assert t[-1] == 0
    np.testing.assert_array_equal(dpm_solver_timesteps(S, 1000), np.arange(999, -1, -1))
    # with few steps the rounding to integer timesteps barely moves the log-SNR grid
    t = dpm_solver_timesteps(S, 10)
    np.testing.assert_allclose(np.diff(lam[t]), (lam[0] - lam[-1]) / 9, rtol=0.1)
    with pytest.raises(ValueError, match=r"steps must be in \[1, 1000\]"):
        dpm_solver_timesteps(S, 1001)


def test_first_order_step_is_ddim_with_eta_0():
    for steps in (1, 4, 25):
        ts = ddim_timesteps(1000, steps)
        ddim = jax.jit(lambda x, steps=steps: ddim_sample(
            gaussian_denoiser(S), S, x, jax.random.PRNGKey(1), steps))(X_T)
        np.testing.assert_allclose(run(X_T, steps, order=1, timesteps=ts), ddim,
                                   rtol=1e-5, atol=1e-5)


def test_many_steps_reach_the_exact_ode_endpoint_and_the_model_is_traced_once():
    calls = []
    # every other timestep of the fine log-SNR grid: h = 10 / 800
    np.testing.assert_array_equal(dpm_solver_timesteps(FINE, 801), np.arange(1600, -1, -2))
    out = run(X_T, 801, calls=calls, schedule=FINE)
    assert len(calls) == 1  # one lax.scan
    np.testing.assert_allclose(out, exact_endpoint(np.asarray(X_T, np.float64), FINE),
                               atol=2e-5)


def test_error_shrinks_at_second_order_where_first_order_halves():
    exact = exact_endpoint(np.asarray(X_T, np.float64), FINE)
    steps = (21, 41, 81, 161)  # h = 1/2, 1/4, 1/8, 1/16 in log-SNR (asymptotic range)
    err2 = np.array([np.max(np.abs(run(X_T, n, schedule=FINE) - exact)) for n in steps])
    err1 = np.array([np.max(np.abs(run(X_T, n, order=1, schedule=FINE) - exact))
                     for n in steps])
    ratios2, ratios1 = err2[:-1] / err2[1:], err1[:-1] / err1[1:]
    assert np.all((ratios2 > 3.2) & (ratios2 < 5.0)), (err2, ratios2)  # 4x per halving
    assert np.all((ratios1 > 1.7) & (ratios1 < 2.3)), (err1, ratios1)  # 2x per halving
    assert np.all(err2 < err1)


def test_on_ddpms_linear_schedule_2m_beats_ddim_several_fold():
    exact = exact_endpoint(np.asarray(X_T, np.float64))
    for n in (10, 20, 50):
        ddim = jax.jit(lambda x, n=n: ddim_sample(gaussian_denoiser(S), S, x,
                                                  jax.random.PRNGKey(0), n))(X_T)
        err_ddim = np.max(np.abs(np.asarray(ddim, np.float64) - exact))
        assert np.max(np.abs(run(X_T, n) - exact)) < err_ddim / 4, n


def test_clip_and_bad_options():
    out = dpm_solver_pp_sample(lambda x, t: (x, jnp.zeros_like(x)), S, 10.0 * jnp.ones((2, 3)),
                               5, clip=(-1.0, 1.0))
    assert float(jnp.max(jnp.abs(out))) <= 1.0
    with pytest.raises(ValueError, match="order"):
        dpm_solver_pp_sample(gaussian_denoiser(S), S, X_T, 5, order=3)
    with pytest.raises(ValueError, match="strictly decreasing"):
        dpm_solver_pp_sample(gaussian_denoiser(S), S, X_T, 3, timesteps=np.array([5, 7, 0]))
