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
