"""Improved consistency training (Song & Dhariwal, 2023, "Improved techniques for training
consistency models"): the discretisation curriculum, the discrete log-normal noise levels,
the pseudo-Huber metric and the loss.

* Curriculum (their eq. 5 / Sec. 3.4): at step ``k`` of ``K``, ``N(k) = min(s0 2^floor(k /
  K'), s1) + 1`` noise levels, ``K' = floor(K / (log2 floor(s1 / s0) + 1))``.
* Levels: the rho-schedule ``sigma_i = (sigma_min^(1/rho) + i / (N - 1) (sigma_max^(1/rho) -
  sigma_min^(1/rho)))^rho``, ``i = 0 .. N-1``, increasing.
* Noise (Sec. 3.5): pair ``(sigma_i, sigma_{i+1})`` drawn with probability proportional to
  ``erf((ln sigma_{i+1} - P_mean) / (sqrt 2 P_std)) - erf((ln sigma_i - P_mean) / (sqrt 2
  P_std))``.
* Loss: ``lambda(sigma_i) d(f_theta(y + sigma_{i+1} z, sigma_{i+1}), sg(f_theta(y + sigma_i z,
  sigma_i)))`` with ``lambda = 1 / (sigma_{i+1} - sigma_i)`` and the pseudo-Huber
  ``d(a, b) = sqrt(||a - b||^2 + c^2) - c``, ``c = 0.00054 sqrt(D)`` (D: data dimensions);
  the teacher is the student itself with a stopped gradient (no EMA teacher).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from genjax.nn.preconditioning import expand

Array = jax.Array


def curriculum_levels(step: Array, total_steps: int, s0: int = 10, s1: int = 1280) -> Array:
    """``N(k)``, the number of noise levels at training step ``k`` (int32)."""
    k_prime = max(total_steps // (int(math.log2(s1 // s0)) + 1), 1)
    doublings = jnp.minimum(jnp.asarray(step, jnp.int32) // k_prime, 30)
    return jnp.minimum(s0 * 2 ** doublings, s1).astype(jnp.int32) + 1


def level_sigmas(num_levels: Array, size: int, sigma_min: float, sigma_max: float,
                 rho: float) -> Array:
    """The first ``size`` levels of the increasing rho-schedule with ``num_levels`` points
    (indices past ``num_levels - 1`` repeat ``sigma_max``), float32 ``(size,)``."""
    i = jnp.minimum(jnp.arange(size, dtype=jnp.float32), num_levels - 1)
    lo, hi = sigma_min ** (1.0 / rho), sigma_max ** (1.0 / rho)
    return (lo + i / (num_levels - 1).astype(jnp.float32) * (hi - lo)) ** rho


def pair_logits(sigmas: Array, num_levels: Array, p_mean: float, p_std: float) -> Array:
    """Log-probabilities ``(size - 1,)`` of drawing pair ``(sigma_i, sigma_{i+1})``; pairs past
    the last level are ``-inf``."""
    cdf = jax.scipy.special.erf((jnp.log(sigmas) - p_mean) / (math.sqrt(2.0) * p_std))
    mass = cdf[1:] - cdf[:-1]
    valid = jnp.arange(sigmas.shape[0] - 1) < num_levels - 1
    return jnp.where(valid & (mass > 0), jnp.log(jnp.maximum(mass, 1e-30)), -jnp.inf)


def pseudo_huber(a: Array, b: Array, c: float) -> Array:
    """``sqrt(||a - b||^2 + c^2) - c`` per example (``(B,)``, float32)."""
    diff = (a.astype(jnp.float32) - b.astype(jnp.float32)).reshape(a.shape[0], -1)
    return jnp.sqrt(jnp.sum(jnp.square(diff), axis=1) + c * c) - c


def huber_c(data_shape: tuple[int, ...]) -> float:
    """iCT's ``c = 0.00054 sqrt(D)``."""
    return 0.00054 * math.sqrt(math.prod(data_shape))


def heun_toward(denoise, x: Array, s_from: Array, s_to: Array) -> Array:
    """One Heun step of the probability-flow ODE ``dx/dsigma = (x - D(x; sigma)) / sigma``
    from ``s_from`` to ``s_to`` (``(B,)`` levels, both > 0): consistency distillation's
    teacher step (Song et al., 2023, Sec. 4 with EDM's 2nd-order solver).

    ``d = (x - D(x; s_from)) / s_from``, ``x' = x + (s_to - s_from) d``,
    ``d' = (x' - D(x'; s_to)) / s_to``, result ``x + (s_to - s_from) (d + d') / 2``.
    Two evaluations of ``denoise(x, sigma (B,))``; in ``x``'s dtype.
    """
    def slope(v, s):
        return (v - denoise(v, s)) / expand(s, v)

    h = expand(s_to - s_from, x)
    d = slope(x, s_from)
    return x + h * 0.5 * (d + slope(x + h * d, s_to))
