"""EDM's rho-schedule and Heun/Euler samplers against the closed-form Gaussian ODE."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.edm.samplers import churn_gammas, edm_sample, karras_sigmas

M, SD = 0.3, 0.5  # data ~ N(M, SD^2) per dimension


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def gaussian_denoiser(x, sigma):
    """The exact D(x; sigma) = E[y | y + sigma n = x] for y ~ N(M, SD^2)."""
    s2 = sigma.reshape(sigma.shape + (1,) * (x.ndim - 1)) ** 2
    return M + SD**2 / (SD**2 + s2) * (x - M)


def exact(x_T: np.ndarray, sigma_start: float, sigma_end: float) -> np.ndarray:
    """The ODE dx/dsigma = (x - D) / sigma = sigma (x - M) / (SD^2 + sigma^2) solved exactly:
    (x - M) / sqrt(SD^2 + sigma^2) is constant along a path."""
    return M + (x_T - M) * np.sqrt(SD**2 + sigma_end**2) / np.sqrt(SD**2 + sigma_start**2)


def reference(x_T: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """The exact ODE to sigma_{N-1}, then the sampler's closed-form last (Euler) step to 0,
    which lands on D(x; sigma_{N-1})."""
    x = exact(x_T, sigmas[0], sigmas[-2])
    return M + SD**2 / (SD**2 + sigmas[-2] ** 2) * (x - M)


def test_rho_schedule_matches_eq_5():
    s = karras_sigmas(18)
    assert s.shape == (19,) and s[-1] == 0.0
    np.testing.assert_allclose([s[0], s[-2]], [80.0, 0.002], rtol=1e-12)
    i = np.arange(18)
    want = (80.0 ** (1 / 7) + i / 17 * (0.002 ** (1 / 7) - 80.0 ** (1 / 7))) ** 7
    np.testing.assert_allclose(s[:-1], want, rtol=1e-12)
    np.testing.assert_allclose(karras_sigmas(5, 1.0, 5.0, rho=1.0)[:-1], [5, 4, 3, 2, 1])
    np.testing.assert_array_equal(karras_sigmas(1), [80.0, 0.0])
    assert np.all(np.diff(s) < 0)
    with pytest.raises(ValueError, match="sigma_min <= sigma_max"):
        karras_sigmas(5, 2.0, 1.0)
    with pytest.raises(ValueError, match="steps"):
        karras_sigmas(0)


def test_churn_gammas():
    s = karras_sigmas(10)
    g = churn_gammas(s, 3.0, s_min=0.05, s_max=50.0)
    inside = (s[:-1] >= 0.05) & (s[:-1] <= 50.0)
    np.testing.assert_allclose(g[inside], 0.3)  # S_churn / N
    assert np.all(g[~inside] == 0)
    np.testing.assert_allclose(churn_gammas(s, 100.0), np.sqrt(2) - 1)  # capped


def test_heun_is_second_order_and_euler_first_on_the_gaussian_ode(x64):
    x_T = 80.0 * np.asarray(jax.random.normal(jax.random.PRNGKey(0), (64, 2), jnp.float64))
    errors = {}
    for solver in ("heun", "euler"):
        errs = []
        for steps in (16, 32, 64, 128):
            sigmas = karras_sigmas(steps)
            out = edm_sample(gaussian_denoiser, jnp.asarray(x_T), sigmas, jax.random.PRNGKey(1),
                             solver)
            assert out.dtype == jnp.float64
            errs.append(np.max(np.abs(np.asarray(out) - reference(x_T, sigmas))))
        errors[solver] = np.array(errs)
    r_heun = errors["heun"][:-1] / errors["heun"][1:]
    r_euler = errors["euler"][:-1] / errors["euler"][1:]
    assert np.all((r_heun > 3.3) & (r_heun < 4.8)), errors
    assert np.all((r_euler > 1.7) & (r_euler < 2.3)), errors
    assert np.all(errors["heun"] < errors["euler"])
    assert np.all(errors["heun"][2:] < errors["euler"][2:] / 10)
    # many steps: the exact ODE endpoint from sigma_max to 0
    out = edm_sample(gaussian_denoiser, jnp.asarray(x_T), karras_sigmas(512),
                     jax.random.PRNGKey(1))
    np.testing.assert_allclose(out, exact(x_T, 80.0, 0.0), atol=1e-4)  # 1.3e-3 / 16


def test_deterministic_and_churned_heun_recover_the_data_distribution():
    n = 8000
    z = jax.random.normal(jax.random.PRNGKey(2), (n, 2))
    sigmas = karras_sigmas(64)  # at 18 steps Heun's error on this ODE is ~6% of the std
    calls = []

    def counted(x, s):
        calls.append(1)
        return gaussian_denoiser(x, s)

    det = jax.jit(lambda z, k: edm_sample(counted, 80.0 * z, sigmas, k))
    out = np.asarray(det(z, jax.random.PRNGKey(3)), np.float64)
    assert len(calls) == 2  # one lax.scan: the Euler slope and Heun's correction
    churned = np.asarray(jax.jit(lambda z, k: edm_sample(
        gaussian_denoiser, 80.0 * z, sigmas, k, "heun", 40.0, 1.0, 0.05, 50.0))(
            z, jax.random.PRNGKey(4)), np.float64)
    # start N(0, 80^2) instead of N(M, SD^2 + 80^2): mean off by M SD / sqrt(SD^2 + 80^2)
    bias = M * SD / np.sqrt(SD**2 + 80.0**2)
    for x in (out, churned):
        assert np.all(np.abs(x.mean(0) - M) < bias + 5 * SD / np.sqrt(n))
        # sampling error plus the solver's (~1% deterministic, ~3% churned at 64 steps)
        assert np.all(np.abs(x.std(0) - SD) < 5 * SD / np.sqrt(2 * n) + 0.01)
    assert not np.allclose(out, churned)


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown solver"):
        edm_sample(gaussian_denoiser, jnp.ones((2, 2)), karras_sigmas(3), jax.random.PRNGKey(0),
                   "rk4")
    with pytest.raises(ValueError, match="final 0"):
        edm_sample(gaussian_denoiser, jnp.ones((2, 2)), np.array([2.0, 1.0]),
                   jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="S_churn"):
        edm_sample(gaussian_denoiser, jnp.ones((2, 2)), karras_sigmas(3), jax.random.PRNGKey(0),
                   s_churn=-1.0)
