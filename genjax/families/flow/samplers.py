"""ODE solvers for flow matching: fixed steps in one ``lax.scan``, adaptive through diffrax.

A solver integrates ``dx/dt = velocity(x, t)`` from ``t = 0`` (the start noise) to ``t = 1``
(data) in ``steps`` equal steps of ``h = 1 / steps`` on the grid ``t_k = k h``. ``velocity``
takes the state ``x`` and a scalar time ``t`` (a 0-d array of ``x``'s dtype) and returns
``dx/dt`` shaped like ``x``; guidance and the network's time scaling live in it. The network
is traced once per stage whatever ``steps`` is: the loop over steps is a ``lax.scan``.

* ``"euler"``: ``x + h v(x, t)``; global error O(h), 1 evaluation per step.
* ``"heun"`` (explicit trapezoid, 2nd order): ``k1 = v(x, t)``, ``k2 = v(x + h k1, t + h)``,
  ``x + h (k1 + k2) / 2``, except the last step, which is Euler's (as Karras et al. 2022 do:
  the corrector would evaluate the field at the end point, where a learned velocity towards
  sharp data is stiffest; on the 8-Gaussian ring this took flow Heun from 17% to 85%
  high-quality samples at 17 NFE); global error O(h^2), 2 N - 1 evaluations.
* ``"rk4"`` (classical Runge-Kutta): ``k1 = v(x, t)``, ``k2 = v(x + h k1 / 2, t + h / 2)``,
  ``k3 = v(x + h k2 / 2, t + h / 2)``, ``k4 = v(x + h k3, t + h)``,
  ``x + h (k1 + 2 k2 + 2 k3 + k4) / 6``, except the last step, which is Ralston's 3rd-order
  method (stages at ``t``, ``t + h / 2``, ``t + 3 h / 4``; ``x + h (2 k1 + 3 k2 + 4 k3) / 9``),
  for the reason Heun's last step is Euler's: no stage at the end point (benchmarks/RESULTS.md,
  issue 15). Its local error O(h^4) keeps the global error O(h^4); 4 N - 1 evaluations.

Adaptive solvers (:func:`integrate_adaptive`, diffrax's embedded Runge-Kutta pairs with a PI
step-size controller on the RMS norm of the local error estimate, ``rtol`` / ``atol``):

* ``"dopri5"``: Dormand-Prince 5(4); ``"tsit5"``: Tsitouras 5(4). Both are FSAL: one
  evaluation at the start, then 6 per attempted step, so the reported
  ``nfe = 1 + 6 (accepted + rejected)``; it is exact when no step was rejected, and diffrax
  may re-evaluate the first stage after a rejection (at most one more per rejected step,
  so the true count lies in ``[nfe, nfe + rejected]``: tests/families/flow/test_adaptive.py
  counts them). The initial step size is ``dt0 = 1 / 16`` (no probing evaluations).

The whole batch is one ODE state, so its examples share the step sizes (the error norm is
taken over all of them): the NFE is a property of the batch.

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

#: Fixed-step solver name -> network evaluations per step.
SOLVERS = {"euler": 1, "heun": 2, "rk4": 4}
#: Adaptive solvers (diffrax), with ``rtol`` / ``atol``.
ADAPTIVE_SOLVERS = ("dopri5", "tsit5")
#: Initial step of the adaptive solvers.
ADAPTIVE_DT0 = 1.0 / 16


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


def _ralston3(v: Velocity, x: Array, t: Array, h: Array) -> Array:
    k1 = v(x, t)
    k2 = v(x + 0.5 * h * k1, t + 0.5 * h)
    k3 = v(x + 0.75 * h * k2, t + 0.75 * h)
    return x + (h / 9.0) * (2.0 * k1 + 3.0 * k2 + 4.0 * k3)


_STEPS = {"euler": _euler, "heun": _heun, "rk4": _rk4}
#: The last step of a solver whose last stage would sit at the end point (module docstring).
_LAST_STEPS = {"heun": _euler, "rk4": _ralston3}


def check_solver(solver: str, steps: int) -> None:
    """Raises ValueError (with the choices) for an unknown solver or ``steps < 1``."""
    if solver not in SOLVERS and solver not in ADAPTIVE_SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of "
                         f"{(*SOLVERS, *ADAPTIVE_SOLVERS)}")
    if int(steps) < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")


def check_tolerances(rtol: float, atol: float) -> None:
    """Raises ValueError unless ``rtol`` and ``atol`` are positive."""
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"--rtol and --atol must be > 0, got {rtol}, {atol}")


def integrate_adaptive(velocity: Velocity, x0: Array, solver: str = "dopri5",
                       rtol: float = 1e-4, atol: float = 1e-4,
                       max_steps: int = 4096) -> tuple[Array, dict[str, Array]]:
    """Solves ``dx/dt = velocity(x, t)`` from ``t = 0`` to ``t = 1`` with diffrax's adaptive
    ``solver`` (see the module docstring).

    Args:
      velocity: ``(x, t (scalar)) -> dx/dt``.
      x0: the state at ``t = 0``, any shape.
      solver: ``"dopri5"`` or ``"tsit5"``.
      rtol, atol: the controller's relative and absolute tolerances.
      max_steps: the most steps diffrax may take (it raises beyond).

    Returns:
      ``(x1, stats)``: the state at ``t = 1`` (shaped and typed like ``x0``) and int32
      scalars ``accepted``, ``rejected`` and ``nfe`` (network evaluations, see the module
      docstring).
    """
    import diffrax

    if solver not in ADAPTIVE_SOLVERS:
        raise ValueError(f"unknown adaptive solver {solver!r}; choose one of "
                         f"{ADAPTIVE_SOLVERS}")
    check_tolerances(rtol, atol)
    method = {"dopri5": diffrax.Dopri5, "tsit5": diffrax.Tsit5}[solver]()
    dtype = x0.dtype
    term = diffrax.ODETerm(lambda t, y, args: velocity(y, jnp.asarray(t, dtype)).astype(dtype))
    sol = diffrax.diffeqsolve(
        term, method, t0=jnp.asarray(0.0, dtype), t1=jnp.asarray(1.0, dtype),
        dt0=jnp.asarray(ADAPTIVE_DT0, dtype), y0=x0,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        saveat=diffrax.SaveAt(t1=True), max_steps=max_steps)
    accepted = jnp.asarray(sol.stats["num_accepted_steps"], jnp.int32)
    rejected = jnp.asarray(sol.stats["num_rejected_steps"], jnp.int32)
    stats = {"accepted": accepted, "rejected": rejected, "nfe": 1 + 6 * (accepted + rejected)}
    return sol.ys[0], stats


def solve(velocity: Velocity, x0: Array, steps: int, solver: str, rtol: float = 1e-4,
          atol: float = 1e-4) -> Array:
    """:func:`integrate` for a fixed-step ``solver``, :func:`integrate_adaptive` (its state at
    ``t = 1``; ``steps`` unused) for an adaptive one."""
    if solver in ADAPTIVE_SOLVERS:
        return integrate_adaptive(velocity, x0, solver, rtol, atol)[0]
    return integrate(velocity, x0, steps, solver)


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
    if solver not in SOLVERS:
        raise ValueError(f"{solver!r} is adaptive: use integrate_adaptive (or solve)")
    dtype = x0.dtype
    h = jnp.asarray(1.0 / steps, dtype)
    ts = jnp.arange(steps, dtype=dtype) / steps
    advance = _STEPS[solver]

    def step(x, t):
        return advance(velocity, x, t, h).astype(dtype), None

    if solver in _LAST_STEPS:  # no stage at the end point on the last step (module docstring)
        x, _ = jax.lax.scan(step, x0, ts[:-1])
        return _LAST_STEPS[solver](velocity, x, ts[-1], h).astype(dtype)
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
                   key: Array | None = None, probes: int = 0, rtol: float = 1e-4,
                   atol: float = 1e-4) -> Array:
    """``log p_1(x1)`` in nats of the flow ``dx/dt = v(x, t)`` from ``N(0, I)`` at ``t = 0``.

    The probability-flow ODE with the instantaneous change of variables
    (``d log p_t(x_t) / dt = -div v(x_t, t)``) is integrated backwards, from the data at
    ``t = 1`` to ``t = 0``, with the augmented state ``(x, a)``:
    ``log p_1(x1) = log N(x0; 0, I) - a``, ``a = int_0^1 div v(x_t, t) dt``.

    Args:
      velocity: ``(x (B, ...), t) -> dx/dt``.
      x1: data ``(B, ...)``.
      steps: solver steps.
      solver: ``"euler"``, ``"heun"``, ``"rk4"``, or adaptive ``"dopri5"`` / ``"tsit5"``
        (``steps`` unused; the error control covers the divergence integral too).
      key: randomness of the Hutchinson probes (``probes > 0``).
      probes: 0 for the exact divergence (one JVP per dimension: for 2D points), else the
        number K of Rademacher probes of Hutchinson's estimator, drawn once per example and
        kept along the trajectory (FFJORD).
      rtol, atol: the adaptive solvers' tolerances.

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
    z0 = solve(augmented, z1, steps, solver, rtol, atol)
    x0, a = z0[:, :d], z0[:, d]
    log_p0 = -0.5 * jnp.sum(x0 ** 2, axis=1) - 0.5 * d * np.log(2.0 * np.pi)
    return log_p0 - a
