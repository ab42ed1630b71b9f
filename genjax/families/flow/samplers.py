"""Fixed-step ODE solvers for flow matching, each one compiled program (``lax.scan``).

A solver integrates ``dx/dt = velocity(x, t)`` from ``t = 0`` (the start noise) to ``t = 1``
(data) in ``steps`` equal steps of ``h = 1 / steps`` on the grid ``t_k = k h``. ``velocity``
takes the state ``x`` and a scalar time ``t`` (a 0-d array of ``x``'s dtype) and returns
``dx/dt`` shaped like ``x``; guidance and the network's time scaling live in it. The network
is traced once per stage whatever ``steps`` is: the loop over steps is a ``lax.scan``.

* ``"euler"``: ``x + h v(x, t)``; global error O(h), 1 evaluation per step.
* ``"heun"`` (explicit trapezoid, 2nd order): ``k1 = v(x, t)``, ``k2 = v(x + h k1, t + h)``,
  ``x + h (k1 + k2) / 2``; global error O(h^2), 2 evaluations per step.
* ``"rk4"`` (classical Runge-Kutta): ``k1 = v(x, t)``, ``k2 = v(x + h k1 / 2, t + h / 2)``,
  ``k3 = v(x + h k2 / 2, t + h / 2)``, ``k4 = v(x + h k3, t + h)``,
  ``x + h (k1 + 2 k2 + 2 k3 + k4) / 6``; global error O(h^4), 4 evaluations per step.

The computation runs in ``x``'s dtype (float64 inputs stay float64, so the order tests can
see RK4's small errors).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
Velocity = Callable[[Array, Array], Array]

#: Solver name -> network evaluations per step.
SOLVERS = {"euler": 1, "heun": 2, "rk4": 4}


def _euler(v: Velocity, x: Array, t: Array, h: Array) -> Array:
    return x + h * v(x, t)


def _heun(v: Velocity, x: Array, t: Array, h: Array) -> Array:
    k1 = v(x, t)
    k2 = v(x + h * k1, t + h)
    return x + 0.5 * h * (k1 + k2)


def _rk4(v: Velocity, x: Array, t: Array, h: Array) -> Array:
    k1 = v(x, t)
    k2 = v(x + 0.5 * h * k1, t + 0.5 * h)
    k3 = v(x + 0.5 * h * k2, t + 0.5 * h)
    k4 = v(x + h * k3, t + h)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


_STEPS = {"euler": _euler, "heun": _heun, "rk4": _rk4}


def check_solver(solver: str, steps: int) -> None:
    """Raises ValueError (with the choices) for an unknown solver or ``steps < 1``."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {tuple(SOLVERS)}")
    if int(steps) < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")


def integrate(velocity: Velocity, x0: Array, steps: int, solver: str = "heun") -> Array:
    """Solves ``dx/dt = velocity(x, t)`` from ``t = 0`` to ``t = 1`` (see the module docstring).

    Args:
      velocity: ``(x, t (scalar)) -> dx/dt``.
      x0: the state at ``t = 0``, any shape.
      steps: number of equal steps N (>= 1).
      solver: ``"euler"``, ``"heun"`` or ``"rk4"``.

    Returns:
      The state at ``t = 1``, shaped and typed like ``x0``.
    """
    check_solver(solver, steps)
    dtype = x0.dtype
    h = jnp.asarray(1.0 / steps, dtype)
    ts = jnp.arange(steps, dtype=dtype) / steps
    advance = _STEPS[solver]

    def step(x, t):
        return advance(velocity, x, t, h).astype(dtype), None

    x, _ = jax.lax.scan(step, x0, ts)
    return x


def _flat_velocity(velocity: Velocity, shape: tuple[int, ...]) -> Velocity:
    """``velocity`` on examples flattened to ``(B, d)``."""
    return lambda x, t: velocity(x.reshape(shape), t).reshape(x.shape)


def divergence(velocity: Velocity, x: Array, t: Array, probes: Array | None = None) -> Array:
    """``div_x v(x, t)`` per example, exact or by Hutchinson's estimator.

    Examples are independent (the network mixes nothing across the batch), so one
    Jacobian-vector product with the same tangent for every example gives each example's
    ``J_i e``: the exact trace takes one JVP per data dimension (``jax.jacfwd``'s columns;
    right for 2D points), the estimator one per probe.

    Args:
      velocity: ``(x (B, d), t) -> (B, d)``.
      x: states ``(B, d)``.
      t: the scalar time.
      probes: None (exact), or probe vectors ``(K, B, d)`` with ``E[e e^T] = I``
        (Rademacher): the estimate is ``mean_k e_k . (J e_k)``.

    Returns:
      ``(B,)``.
    """
    def jvp(tangent):
        return jax.jvp(lambda y: velocity(y, t), (x,), (tangent,))[1]

    if probes is None:
        d = x.shape[-1]
        basis = jnp.broadcast_to(jnp.eye(d, dtype=x.dtype)[:, None, :], (d, *x.shape))
        columns = jax.vmap(jvp)(basis)  # (d, B, d): J_i e_j
        return jnp.einsum("jbj->b", columns)
    return jnp.mean(jnp.sum(probes * jax.vmap(jvp)(probes), axis=-1), axis=0)


def log_likelihood(velocity: Velocity, x1: Array, steps: int, solver: str = "rk4",
                   key: Array | None = None, probes: int = 0) -> Array:
    """``log p_1(x1)`` in nats of the flow ``dx/dt = v(x, t)`` from ``N(0, I)`` at ``t = 0``.

    The probability-flow ODE with the instantaneous change of variables
    (``d log p_t(x_t) / dt = -div v(x_t, t)``) is integrated backwards, from the data at
    ``t = 1`` to ``t = 0``, with the augmented state ``(x, a)``:
    ``log p_1(x1) = log N(x0; 0, I) - a``, ``a = int_0^1 div v(x_t, t) dt``.

    Args:
      velocity: ``(x (B, ...), t) -> dx/dt``.
      x1: data ``(B, ...)``.
      steps: solver steps.
      solver: ``"euler"``, ``"heun"`` or ``"rk4"``.
      key: randomness of the Hutchinson probes (``probes > 0``).
      probes: 0 for the exact divergence (one JVP per dimension: for 2D points), else the
        number K of Rademacher probes of Hutchinson's estimator, drawn once per example and
        kept along the trajectory (FFJORD).

    Returns:
      ``(B,)`` log-densities.
    """
    check_solver(solver, steps)
    shape = x1.shape
    b, d = shape[0], int(np.prod(shape[1:]))
    v = _flat_velocity(velocity, shape)
    eps = None
    if probes:
        if key is None:
            raise ValueError("Hutchinson's estimator (probes > 0) needs a key")
        eps = jax.random.rademacher(key, (probes, b, d), x1.dtype)

    def augmented(z, s):  # reversed time s = 1 - t
        x, t = z[:, :d], 1.0 - s
        return jnp.concatenate([-v(x, t), divergence(v, x, t, eps)[:, None]], axis=1)

    z1 = jnp.concatenate([x1.reshape(b, d), jnp.zeros((b, 1), x1.dtype)], axis=1)
    z0 = integrate(augmented, z1, steps, solver)
    x0, a = z0[:, :d], z0[:, d]
    log_p0 = -0.5 * jnp.sum(x0 ** 2, axis=1) - 0.5 * d * np.log(2.0 * np.pi)
    return log_p0 - a
