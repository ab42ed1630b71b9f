"""The variational bound on -log p(x_0) (Ho et al., 2020, eq. 5), in bits/dim or nats.

``L = L_T + sum_{t>=1} L_{t-1} + L_0`` with (0-based timesteps, ``t = 0 .. T-1``):

* prior ``L_T = KL(q(x_{T-1} | x_0) || N(0, I))``;
* ``L_t = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t))`` for ``t >= 1``, where
  ``p(x_{t-1} | x_t) = N(mu(x_t, x0_hat), sigma_t^2)`` with the posterior-mean form of the
  prediction and the fixed variance of the sampler (small: ``beta_tilde_t``, large: ``beta_t``);
* decoder ``L_0 = -log p(x_0 | x_1)``: for images on 256 levels scaled to [-1, 1] the
  *discretised* Gaussian (the Gaussian's mass over each pixel's bin of width 2/255, the edge
  bins extending to infinity), giving bits per dimension; for continuous data (points) the
  Gaussian density, giving nats.

Each ``L_t`` is evaluated at one draw ``x_t ~ q(x_t | x_0)`` (an unbiased estimate of the
expectation, as in the DDPM and improved-diffusion evaluations).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr, ndtr

from genjax.families.diffusion.schedules import NoiseSchedule

Array = jax.Array
Denoiser = Callable[[Array, Array], tuple[Array, Array]]

DECODERS = ("discretized", "gaussian")
_LOG2 = math.log(2.0)


def normal_kl(mean1: Array, logvar1: Array, mean2: Array, logvar2: Array) -> Array:
    """``KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2)))`` per element, in nats."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + jnp.exp(logvar1 - logvar2)
                  + jnp.square(mean1 - mean2) * jnp.exp(-logvar2))


def discretized_gaussian_log_likelihood(x: Array, mean: Array, log_scale: Array) -> Array:
    """``log P(x)`` per element for a Gaussian discretised to 256 bins on [-1, 1].

    ``x`` must be ``k / 127.5 - 1`` for integers ``k`` in 0..255; its bin is
    ``[x - 1/255, x + 1/255]``, except that the lowest bin extends to -inf and the highest to
    +inf. Differences of CDFs are taken on the side of the mean where they do not cancel
    (``ndtr`` of negated arguments above the mean), so far-tail bins stay accurate in float32.

    Args:
      x: data in [-1, 1] on the 256-level grid.
      mean: Gaussian means, broadcastable to ``x``.
      log_scale: log standard deviations, broadcastable to ``x``.

    Returns:
      Log probabilities (nats), shaped like ``x``; floored at ``log(1e-12)``.
    """
    inv_std = jnp.exp(-log_scale)
    centered = x - mean
    plus = inv_std * (centered + 1.0 / 255.0)
    minus = inv_std * (centered - 1.0 / 255.0)
    upper = centered > 0  # the bin lies above the mean: use survival functions
    mass = jnp.where(upper, ndtr(-minus) - ndtr(-plus), ndtr(plus) - ndtr(minus))
    log_mid = jnp.log(jnp.maximum(mass, 1e-12))
    return jnp.where(x < -0.999, log_ndtr(plus), jnp.where(x > 0.999, log_ndtr(-minus), log_mid))


def gaussian_log_likelihood(x: Array, mean: Array, log_scale: Array) -> Array:
    """The Gaussian log density per element (nats)."""
    return (-0.5 * math.log(2.0 * math.pi) - log_scale
            - 0.5 * jnp.square((x - mean) * jnp.exp(-log_scale)))


def _per_example(x: Array, reduce: str) -> Array:
    flat = x.reshape(x.shape[0], -1)
    return jnp.mean(flat, axis=1) / _LOG2 if reduce == "bpd" else jnp.sum(flat, axis=1)


def prior_term(schedule: NoiseSchedule, x0: Array, reduce: str = "bpd") -> Array:
    """``L_T`` per example: bits/dim (``reduce="bpd"``) or nats summed over dims."""
    t = jnp.full((x0.shape[0],), schedule.num_timesteps - 1, jnp.int32)
    mean, _, log_var = schedule.q_mean_variance(x0, t)
    return _per_example(normal_kl(mean, log_var, 0.0, 0.0), reduce)


def reverse_log_variance(schedule: NoiseSchedule, variance: str) -> np.ndarray:
    """The float64 ``log sigma_t^2`` table of the fixed reverse variance."""
    if variance == "small":
        return schedule.posterior_log_variance_clipped_np
    if variance == "large":
        return np.log(schedule.large_variance_np)
    raise ValueError(f"unknown reverse variance {variance!r}; choose 'small' or 'large'")


def vb_term(denoise: Denoiser, schedule: NoiseSchedule, x0: Array, t: Array, noise: Array,
            variance: str = "small", decoder: str = "discretized",
            clip: tuple[float, float] | None = None) -> Array:
    """``L_t`` per example at one draw of ``x_t``: the KL for ``t >= 1``, the decoder at 0.

    Args:
      denoise: ``(x_t, t) -> (x0_hat, eps_hat)``.
      schedule: the noise schedule.
      x0: data ``(B, ...)``.
      t: timesteps ``(B,)``.
      noise: the standard normal draw that makes ``x_t``.
      variance: the fixed reverse variance, ``"small"`` or ``"large"``.
      decoder: ``"discretized"`` (bits/dim) or ``"gaussian"`` (nats summed over dims).
      clip: range to clip ``x0_hat`` to, or None.

    Returns:
      ``(B,)`` in bits/dim (discretized) or nats (gaussian).
    """
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
    reduce = "bpd" if decoder == "discretized" else "nats"
    xt = schedule.q_sample(x0, t, noise)
    true_mean, _, true_log_var = schedule.q_posterior(x0, xt, t)
    x0_hat, _ = denoise(xt, t)
    if clip is not None:
        x0_hat = jnp.clip(x0_hat, clip[0], clip[1])
    model_mean, _, _ = schedule.q_posterior(x0_hat, xt, t)
    model_log_var = schedule.gather(reverse_log_variance(schedule, variance), t, x0)
    kl = _per_example(normal_kl(true_mean, true_log_var, model_mean, model_log_var), reduce)
    loglik = (discretized_gaussian_log_likelihood if decoder == "discretized"
              else gaussian_log_likelihood)
    nll = _per_example(-loglik(x0, model_mean, 0.5 * model_log_var), reduce)
    return jnp.where(t == 0, nll, kl)


def bound_timesteps(num_timesteps: int, num: int = 0) -> tuple[np.ndarray, float]:
    """Which ``t >= 1`` terms the bound evaluates and the weight that sums them.

    Args:
      num_timesteps: T.
      num: 0 (or >= T-1) for every term (exact); else ``num`` evenly spaced timesteps in
        ``1..T-1``, each standing for ``(T-1)/num`` terms (a quadrature for CPU budgets).

    Returns:
      ``(timesteps, weight)``: int array of the ``t >= 1`` terms, and the factor their sum
      is multiplied by (1.0 when exact).
    """
    if num < 0:
        raise ValueError(f"the number of bound timesteps must be >= 0, got {num}")
    rest = num_timesteps - 1
    if num == 0 or num >= rest:
        return np.arange(1, num_timesteps), 1.0
    ts = np.unique(np.round(np.linspace(1, rest, num)).astype(np.int64))
    return ts, rest / len(ts)


def variational_bound(denoise: Denoiser, schedule: NoiseSchedule, x0: Array, key: Array,
                      variance: str = "small", decoder: str = "discretized",
                      clip: tuple[float, float] | None = None,
                      num_timesteps: int = 0) -> dict[str, Array]:
    """The bound per example, one ``lax.scan`` over timesteps (the model traced once).

    Args:
      denoise: ``(x_t, t) -> (x0_hat, eps_hat)``.
      schedule: the noise schedule.
      x0: data ``(B, ...)``.
      key: randomness of the ``x_t`` draws (term ``t`` uses ``fold_in(key, t)``).
      variance: the fixed reverse variance.
      decoder: ``"discretized"`` (bits/dim) or ``"gaussian"`` (nats).
      clip: range to clip ``x0_hat`` to, or None.
      num_timesteps: how many ``t >= 1`` terms to evaluate (0: all; see
        :func:`bound_timesteps`).

    Returns:
      ``{"total", "prior", "decoder", "terms"}``, each ``(B,)``: the whole bound, ``L_T``,
      ``L_0`` and the (weighted) sum of the ``t >= 1`` KL terms.
    """
    ts, weight = bound_timesteps(schedule.num_timesteps, num_timesteps)
    n = x0.shape[0]

    def term(t: Array) -> Array:
        noise = jax.random.normal(jax.random.fold_in(key, t), x0.shape, jnp.float32)
        return vb_term(denoise, schedule, x0, jnp.full((n,), t, jnp.int32), noise, variance,
                       decoder, clip)

    def body(total, t):
        return total + term(t), None

    kl_sum, _ = jax.lax.scan(body, jnp.zeros((n,), jnp.float32), jnp.asarray(ts, jnp.int32))
    decoder_term = term(jnp.int32(0))
    prior = prior_term(schedule, x0, "bpd" if decoder == "discretized" else "nats")
    terms = weight * kl_sum
    return {"total": prior + terms + decoder_term, "prior": prior, "decoder": decoder_term,
            "terms": terms}
