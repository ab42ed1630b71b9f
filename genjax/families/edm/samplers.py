"""EDM's sigma schedule and its Euler / Heun samplers with optional churn, one ``lax.scan``.

The probability-flow ODE of the variance-exploding process ``x = y + sigma n`` is
``dx/dsigma = (x - D(x; sigma)) / sigma`` (EDM, eq. 1 with ``sigma(t) = t``). Sampling starts
from ``x ~ N(0, sigma_max^2 I)`` and integrates it down the rho-schedule of
:func:`karras_sigmas` to ``sigma = 0`` (Karras et al., 2022, Algorithm 2):

* churn: on steps with ``S_min <= sigma_i <= S_max`` the noise is first raised to
  ``sigma_hat = sigma_i (1 + gamma)``, ``gamma = min(S_churn / N, sqrt(2) - 1)``, by adding
  ``sqrt(sigma_hat^2 - sigma_i^2) S_noise z`` (``S_churn = 0``: deterministic);
* ``"euler"``: ``x_{i+1} = x_hat + (sigma_{i+1} - sigma_hat) d``,
  ``d = (x_hat - D(x_hat; sigma_hat)) / sigma_hat``; N network evaluations;
* ``"heun"``: the Euler step corrected by the slope at its end,
  ``x_{i+1} = x_hat + (sigma_{i+1} - sigma_hat) (d + d') / 2``, except on the last step
  (``sigma_N = 0``, where ``d'`` is undefined: Euler, whose result is ``D(x; sigma_{N-1})``);
  ``2N - 1`` network evaluations.

The computation runs in ``x``'s dtype (float64 inputs stay float64 for the order tests).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
Denoise = Callable[[Array, Array], Array]

#: Solver -> (network evaluations for N steps).
SOLVERS = {"heun": lambda n: 2 * n - 1, "euler": lambda n: n}


def karras_sigmas(steps: int, sigma_min: float = 0.002, sigma_max: float = 80.0,
                  rho: float = 7.0) -> np.ndarray:
    """EDM eq. 5: ``sigma_i = (sigma_max^(1/rho) + i / (N-1) (sigma_min^(1/rho) -
    sigma_max^(1/rho)))^rho`` for ``i < N``, and ``sigma_N = 0``.

    Args:
      steps: N >= 1 (N = 1 gives ``[sigma_max, 0]``).
      sigma_min, sigma_max: the end points, ``0 < sigma_min <= sigma_max``.
      rho: the warping (7: the paper's choice; 1: uniform in sigma).

    Returns:
      float64 ``(N + 1,)``, decreasing, last entry 0.
    """
    check_schedule(steps, sigma_min, sigma_max, rho)
    if steps == 1:
        return np.array([sigma_max, 0.0])
    i = np.arange(steps, dtype=np.float64) / (steps - 1)
    lo, hi = sigma_min ** (1.0 / rho), sigma_max ** (1.0 / rho)
    return np.append((hi + i * (lo - hi)) ** rho, 0.0)


def check_schedule(steps: int, sigma_min: float, sigma_max: float, rho: float) -> None:
    """Raises ValueError naming the problem for a schedule that cannot be built."""
    if int(steps) < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    if not 0.0 < sigma_min <= sigma_max:
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min}, {sigma_max}")
    if not rho > 0:
        raise ValueError(f"rho must be > 0, got {rho}")


def check_churn(s_churn: float, s_noise: float, s_min: float, s_max: float) -> None:
    """Raises ValueError for churn parameters outside their range."""
    if not s_churn >= 0:
        raise ValueError(f"S_churn must be >= 0, got {s_churn}")
    if not s_noise > 0:
        raise ValueError(f"S_noise must be > 0, got {s_noise}")
    if not 0.0 <= s_min <= s_max:
        raise ValueError(f"need 0 <= S_min <= S_max, got {s_min}, {s_max}")


def churn_gammas(sigmas: np.ndarray, s_churn: float, s_min: float = 0.0,
                 s_max: float = float("inf")) -> np.ndarray:
    """``gamma_i = min(S_churn / N, sqrt(2) - 1)`` where ``S_min <= sigma_i <= S_max``, else 0
    (``(N,)`` for the N steps of ``sigmas``)."""
    s = np.asarray(sigmas[:-1], np.float64)
    gamma = min(s_churn / len(s), np.sqrt(2.0) - 1.0)
    return np.where((s >= s_min) & (s <= s_max), gamma, 0.0)


def edm_sample(denoise: Denoise, x_T: Array, sigmas: np.ndarray, key: Array,
               solver: str = "heun", s_churn: float = 0.0, s_noise: float = 1.0,
               s_min: float = 0.0, s_max: float = float("inf")) -> Array:
    """Integrates EDM's ODE (or its churned variant) along ``sigmas`` (see the module doc).

    Args:
      denoise: ``D(x (B, ...), sigma (B,)) -> (B, ...)``, guidance included.
      x_T: the start ``(B, ...)``, already scaled: ``sigma_0 z`` with ``z ~ N(0, I)``.
      sigmas: the decreasing noise levels ``(N + 1,)``, ending at 0 (:func:`karras_sigmas`).
      key: randomness of the churn noise (unused when ``s_churn == 0``).
      solver: ``"heun"`` or ``"euler"``.
      s_churn, s_noise, s_min, s_max: the churn parameters.

    Returns:
      The samples, shaped and typed like ``x_T``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {tuple(SOLVERS)}")
    check_churn(s_churn, s_noise, s_min, s_max)
    sigmas = np.asarray(sigmas, np.float64)
    if sigmas.ndim != 1 or len(sigmas) < 2 or sigmas[-1] != 0 or np.any(np.diff(sigmas) >= 0):
        raise ValueError("sigmas must decrease strictly to a final 0 (karras_sigmas)")
    dtype = x_T.dtype
    gammas = churn_gammas(sigmas, s_churn, s_min, s_max)
    hats = sigmas[:-1] * (1.0 + gammas)
    n = x_T.shape[0]
    xs = {"hat": jnp.asarray(hats, dtype), "next": jnp.asarray(sigmas[1:], dtype),
          "add": jnp.asarray(np.sqrt(hats ** 2 - sigmas[:-1] ** 2) * s_noise, dtype),
          "key": jax.random.split(key, len(hats))}
    stochastic = bool(np.any(gammas > 0))

    def slope(x, sigma):
        return (x - denoise(x, jnp.full((n,), sigma, dtype)).astype(dtype)) / sigma

    def step(x, s):
        if stochastic:
            x = x + s["add"] * jax.random.normal(s["key"], x.shape, dtype)
        d = slope(x, s["hat"])
        h = s["next"] - s["hat"]
        euler = x + h * d
        if solver == "euler":
            return euler, None
        corrected = jax.lax.cond(
            s["next"] > 0, lambda: x + 0.5 * h * (d + slope(euler, s["next"])), lambda: euler)
        return corrected, None

    x, _ = jax.lax.scan(step, x_T, xs)
    return x
