"""The fixed-step solvers against closed-form ODE solutions: each converges at its order."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.flow.samplers import SOLVERS, integrate

ORDER = {"euler": 1, "heun": 2, "rk4": 4}


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def linear_case():
    """dx/dt = A x, A a damped rotation: x(1) = exp(-1/2) R(2) x(0) (closed form)."""
    a = np.array([[-0.5, -2.0], [2.0, -0.5]])
    exact = np.exp(-0.5) * np.array([[np.cos(2.0), -np.sin(2.0)], [np.sin(2.0), np.cos(2.0)]])
    x0 = np.array([[1.0, 0.5], [-0.3, 2.0], [0.0, -1.0]])
    return (lambda x, t: x @ jnp.asarray(a).T), x0, x0 @ exact.T


def gaussian_path_case():
    """The marginal velocity of the OT path from N(0, 1) to N(mu, s^2) (time-dependent).

    p_t = N(t mu, sigma_t^2) with sigma_t^2 = (1 - t)^2 + t^2 s^2, and
    v(x, t) = mu + (t s^2 - (1 - t)) / sigma_t^2 (x - t mu); its flow maps z to mu + s z.
    """
    mu, s = 3.0, 2.0

    def v(x, t):
        var = (1.0 - t) ** 2 + t ** 2 * s ** 2
        return mu + (t * s ** 2 - (1.0 - t)) / var * (x - t * mu)

    z = np.linspace(-2.0, 2.0, 7)
    return v, z, mu + s * z


def errors(case, solver, steps):
    v, x0, exact = case()
    out = []
    for n in steps:
        x1 = integrate(v, jnp.asarray(x0), n, solver)
        assert x1.dtype == jnp.float64 and x1.shape == x0.shape
        out.append(float(np.abs(np.asarray(x1) - exact).max()))
    return np.array(out)


@pytest.mark.parametrize("case", [linear_case, gaussian_path_case])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_error_shrinks_by_two_to_the_order_when_steps_double(x64, case, solver):
    err = errors(case, solver, (16, 32, 64))
    ratios = err[:-1] / err[1:]
    expected = 2.0 ** ORDER[solver]  # 2, 4, 16
    # measured: euler 2.04/2.02 (linear) and 1.96/1.98 (Gaussian path); heun 3.98/3.99 and
    # 4.29/4.15; rk4 (Ralston last step) 16.5/16.3 and 18.4/17.3
    assert np.all(ratios > 0.85 * expected) and np.all(ratios < 1.25 * expected), (err, ratios)
    # the observed order log2(ratio) at the finest doubling is the nominal one within 0.3
    assert abs(np.log2(ratios[-1]) - ORDER[solver]) < 0.3, ratios


def test_rk4_is_accurate_and_euler_is_not(x64):
    assert errors(linear_case, "rk4", (64,))[0] < 1e-7  # measured 5.1e-8
    assert errors(linear_case, "euler", (64,))[0] > 1e-2  # measured 3.6e-2
    # one step on dx/dt = x from x=1: Euler 1 + 1; rk4's only step is its last, Ralston's
    # 3rd-order one, the Taylor sum to h^3 / 6 (k = 1, 3/2, 1 + 9/8: 1 + (2 + 9/2 + 17/2) / 9)
    for solver, value in (("euler", 2.0), ("rk4", 1 + 1 + 1 / 2 + 1 / 6)):
        out = integrate(lambda x, t: x, jnp.ones((1,), jnp.float64), 1, solver)
        np.testing.assert_allclose(np.asarray(out), [value], rtol=1e-12)
    # rk4, 2 steps of h = 1/2: the classical step's Taylor sum to h^4 / 24, then Ralston's to
    # h^3 / 6
    h = 0.5
    out = integrate(lambda x, t: x, jnp.ones((1,), jnp.float64), 2, "rk4")
    expected = (1 + h + h**2 / 2 + h**3 / 6 + h**4 / 24) * (1 + h + h**2 / 2 + h**3 / 6)
    np.testing.assert_allclose(np.asarray(out), [expected], rtol=1e-12)
    # heun, 2 steps of h = 1/2: a trapezoid step 1 + (1 + 3/2) / 4 = 13/8, then Euler's last
    # step 13/8 * 3/2 = 39/16
    out = integrate(lambda x, t: x, jnp.ones((1,), jnp.float64), 2, "heun")
    np.testing.assert_allclose(np.asarray(out), [39 / 16], rtol=1e-12)


def test_time_grid_runs_from_zero_to_one():
    # dx/dt = 2 t: x(1) = x(0) + 1; rk4 and the trapezoid are exact on a linear-in-t field,
    # euler's left sums give x(0) + 1 - 1/N; heun's Euler last step misses h^2 = 1/N^2
    field = lambda x, t: 2.0 * t * jnp.ones_like(x)  # noqa: E731
    for solver, value in (("rk4", 1.0), ("euler", 1.0 - 1.0 / 5), ("heun", 1.0 - 1.0 / 25)):
        out = integrate(field, jnp.zeros((2,)), 5, solver)
        np.testing.assert_allclose(np.asarray(out), value, rtol=1e-6)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_one_scan_traces_the_velocity_a_fixed_number_of_times(solver):
    calls = []

    def v(x, t):
        calls.append(1)
        return -x

    for steps in (3, 300):
        calls.clear()
        jax.jit(lambda x, s=steps: integrate(v, x, s, solver))(jnp.ones((4, 2)))
        # the last step of heun (Euler's) and of rk4 (Ralston's) is traced apart
        last = {"heun": 1, "rk4": 3}.get(solver, 0)
        assert len(calls) == SOLVERS[solver] + last, (steps, len(calls))  # once per stage


def test_bad_solver_and_steps_are_refused():
    with pytest.raises(ValueError, match=r"unknown solver 'rk45'; choose one of"):
        integrate(lambda x, t: x, jnp.ones((1,)), 4, "rk45")
    with pytest.raises(ValueError, match="'dopri5' is adaptive: use integrate_adaptive"):
        integrate(lambda x, t: x, jnp.ones((1,)), 4, "dopri5")
    with pytest.raises(ValueError, match="--steps must be >= 1"):
        integrate(lambda x, t: x, jnp.ones((1,)), 0, "euler")
