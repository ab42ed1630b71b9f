"""Noise schedules and the closed forms of the Gaussian diffusion (Ho et al., 2020).

A schedule is its betas; everything else is derived from them in float64 NumPy (so long
products such as ``alphas_cumprod`` at T=4000 keep their precision) and cast to float32 only
when gathered for a batch of timesteps inside a jitted function.

Notation (timesteps are 0-based, ``t = 0 .. T-1``; ``x_{t+1}`` in the paper's 1-based terms
is ``x`` at index ``t`` here):

* forward process ``q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)``,
  ``abar_t = prod_{s <= t} (1 - beta_s)``;
* posterior ``q(x_{t-1} | x_t, x_0) = N(c1_t x_0 + c2_t x_t, beta_tilde_t I)`` with
  ``c1_t = beta_t sqrt(abar_{t-1}) / (1 - abar_t)``,
  ``c2_t = (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t)``,
  ``beta_tilde_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`` and ``abar_{-1} = 1``
  (so ``beta_tilde_0 = 0``; its log is clipped to ``log beta_tilde_1``, as in the DDPM code).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class NoiseSchedule:
    """A discrete-time Gaussian diffusion defined by its betas.

    Build one with :func:`linear_schedule`, :func:`cosine_schedule` or :func:`make_schedule`.
    All ``*_np`` properties are float64 NumPy arrays of length ``T``; the methods gather them
    at integer timesteps ``t`` (any shape) as float32 and broadcast against data ``x``.

    Attributes:
      betas: the per-step noise variances ``beta_t`` in (0, 1), a tuple so the schedule is
        hashable (objectives holding it are static arguments of ``jax.jit``).
      name: what built it (for messages).
    """

    betas: tuple[float, ...]
    name: str = "custom"

    def __post_init__(self):
        b = np.asarray(self.betas, np.float64)
        if b.ndim != 1 or len(b) < 1:
            raise ValueError(f"betas must be a non-empty 1-D sequence, got shape {b.shape}")
        if not np.all((b > 0) & (b < 1)):
            raise ValueError("every beta must lie in (0, 1); check the schedule's parameters")

    # -- float64 tables -------------------------------------------------------------------
    @property
    def num_timesteps(self) -> int:
        """T, the number of diffusion steps."""
        return len(self.betas)

    @functools.cached_property
    def betas_np(self) -> np.ndarray:
        return np.asarray(self.betas, np.float64)

    @functools.cached_property
    def alphas_cumprod_np(self) -> np.ndarray:
        """``abar_t = prod_{s<=t} (1 - beta_s)``."""
        return np.cumprod(1.0 - self.betas_np)

    @functools.cached_property
    def alphas_cumprod_prev_np(self) -> np.ndarray:
        """``abar_{t-1}`` with ``abar_{-1} = 1``."""
        return np.append(1.0, self.alphas_cumprod_np[:-1])

    @functools.cached_property
    def posterior_variance_np(self) -> np.ndarray:
        """``beta_tilde_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`` (0 at t = 0)."""
        return self.betas_np * (1.0 - self.alphas_cumprod_prev_np) / (1.0 - self.alphas_cumprod_np)

    @functools.cached_property
    def posterior_log_variance_clipped_np(self) -> np.ndarray:
        """``log beta_tilde_t`` with the t = 0 entry (log 0) replaced by ``log beta_tilde_1``."""
        var = self.posterior_variance_np
        if len(var) == 1:
            return np.log(self.betas_np)
        return np.log(np.append(var[1], var[1:]))

    @functools.cached_property
    def posterior_mean_coef1_np(self) -> np.ndarray:
        """``c1_t``, the weight of ``x_0`` in the posterior mean."""
        return (self.betas_np * np.sqrt(self.alphas_cumprod_prev_np)
                / (1.0 - self.alphas_cumprod_np))

    @functools.cached_property
    def posterior_mean_coef2_np(self) -> np.ndarray:
        """``c2_t``, the weight of ``x_t`` in the posterior mean."""
        return ((1.0 - self.alphas_cumprod_prev_np) * np.sqrt(1.0 - self.betas_np)
                / (1.0 - self.alphas_cumprod_np))

    @functools.cached_property
    def large_variance_np(self) -> np.ndarray:
        """The "fixed large" reverse variance: ``beta_t``, with ``beta_tilde_1`` at t = 0.

        As in improved-diffusion, t = 0 uses ``beta_tilde_1`` so the decoder's variance is not
        larger than the data's quantisation needs.
        """
        if self.num_timesteps == 1:
            return self.betas_np
        return np.append(self.posterior_variance_np[1], self.betas_np[1:])

    # -- gathers --------------------------------------------------------------------------
    def gather(self, table: np.ndarray, t: Array, x: Array | None = None) -> Array:
        """``table[t]`` as float32, shaped to broadcast against ``x``.

        Args:
          table: one of the float64 ``*_np`` arrays (length T).
          t: integer timesteps, shape ``(B,)`` (or any shape without ``x``).
          x: data ``(B, ...)``; the result gets trailing singleton axes to match it.

        Returns:
          float32 values ``(B, 1, ..., 1)`` (or ``t.shape`` without ``x``).
        """
        values = jnp.asarray(table.astype(np.float32))[t]
        if x is None:
            return values
        return values.reshape(values.shape + (1,) * (x.ndim - values.ndim))

    def sqrt_alphas_cumprod(self, t: Array, x: Array | None = None) -> Array:
        return self.gather(np.sqrt(self.alphas_cumprod_np), t, x)

    def sqrt_one_minus_alphas_cumprod(self, t: Array, x: Array | None = None) -> Array:
        return self.gather(np.sqrt(1.0 - self.alphas_cumprod_np), t, x)

    def q_mean_variance(self, x0: Array, t: Array) -> tuple[Array, Array, Array]:
        """Mean, variance and log variance of ``q(x_t | x_0)``.

        Args:
          x0: clean data ``(B, ...)``.
          t: timesteps ``(B,)``.

        Returns:
          ``(mean, variance, log_variance)``, the last two shaped ``(B, 1, ..., 1)``.
        """
        mean = self.sqrt_alphas_cumprod(t, x0) * x0
        variance = self.gather(1.0 - self.alphas_cumprod_np, t, x0)
        log_variance = self.gather(np.log(1.0 - self.alphas_cumprod_np), t, x0)
        return mean, variance, log_variance

    def q_sample(self, x0: Array, t: Array, noise: Array) -> Array:
        """A draw of ``x_t ~ q(x_t | x_0)``: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``."""
        return (self.sqrt_alphas_cumprod(t, x0) * x0
                + self.sqrt_one_minus_alphas_cumprod(t, x0) * noise)

    def q_posterior(self, x0: Array, xt: Array, t: Array) -> tuple[Array, Array, Array]:
        """Mean, variance and clipped log variance of ``q(x_{t-1} | x_t, x_0)``.

        Args:
          x0: clean data (or a prediction of it) ``(B, ...)``.
          xt: the noisy data at ``t``.
          t: timesteps ``(B,)``.

        Returns:
          ``(mean, variance, log_variance_clipped)``, the last two ``(B, 1, ..., 1)``.
        """
        mean = (self.gather(self.posterior_mean_coef1_np, t, x0) * x0
                + self.gather(self.posterior_mean_coef2_np, t, xt) * xt)
        variance = self.gather(self.posterior_variance_np, t, x0)
        log_variance = self.gather(self.posterior_log_variance_clipped_np, t, x0)
        return mean, variance, log_variance

    def snr(self, t: Array) -> Array:
        """Signal-to-noise ratio ``abar_t / (1 - abar_t)`` at ``t`` (float32, ``t.shape``)."""
        return self.gather(self.alphas_cumprod_np / (1.0 - self.alphas_cumprod_np), t)


def linear_schedule(num_timesteps: int, beta_start: float = 1e-4,
                    beta_end: float = 0.02) -> NoiseSchedule:
    """The DDPM linear schedule, rescaled for any T as in improved-diffusion.

    Args:
      num_timesteps: T >= 1.
      beta_start: beta at t = 0 for T = 1000 (scaled by ``1000 / T``).
      beta_end: beta at t = T-1 for T = 1000 (scaled by ``1000 / T``).

    Returns:
      The schedule; T = 1000 gives exactly ``linspace(1e-4, 0.02, 1000)``.
    """
    _check_timesteps(num_timesteps)
    scale = 1000.0 / num_timesteps
    betas = np.linspace(scale * beta_start, min(scale * beta_end, 0.999), num_timesteps,
                        dtype=np.float64)
    return NoiseSchedule(tuple(float(b) for b in betas), name=f"linear(T={num_timesteps})")


def cosine_schedule(num_timesteps: int, s: float = 0.008,
                    max_beta: float = 0.999) -> NoiseSchedule:
    """The cosine schedule of Nichol & Dhariwal (2021).

    ``abar(u) = cos^2(pi/2 (u + s) / (1 + s))`` for ``u = t / T``;
    ``beta_t = min(1 - abar((t+1)/T) / abar(t/T), max_beta)``.

    Args:
      num_timesteps: T >= 1.
      s: the small offset that keeps beta_0 from being tiny.
      max_beta: the clip that avoids singularities near t = T.

    Returns:
      The schedule.
    """
    _check_timesteps(num_timesteps)

    def abar(u: np.ndarray) -> np.ndarray:
        return np.cos((u + s) / (1.0 + s) * math.pi / 2.0) ** 2

    u = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
    betas = np.minimum(1.0 - abar(u[1:]) / abar(u[:-1]), max_beta)
    return NoiseSchedule(tuple(float(b) for b in betas), name=f"cosine(T={num_timesteps})")


SCHEDULES = {"linear": linear_schedule, "cosine": cosine_schedule}

#: How the training step draws timesteps (``Diffusion.timestep_sampling``).
TIMESTEP_SAMPLING = ("uniform", "lognormal")


def lognormal_timestep_probs(schedule: NoiseSchedule, p_mean: float,
                             p_std: float) -> np.ndarray:
    """EDM's log-normal training distribution of the noise level, on a schedule's timesteps.

    The noise level of timestep ``t`` in EDM's terms is ``sigma_t = sqrt((1 - abar_t) /
    abar_t)`` (``x_t / sqrt(abar_t) = x_0 + sigma_t eps``), increasing in ``t``. With
    ``ln sigma ~ N(p_mean, p_std^2)``, timestep ``t`` takes the probability of ``ln sigma``
    between the midpoints of its neighbours' ``ln sigma`` (``t = 0`` and ``t = T-1`` also
    take the tails), so the probabilities sum to one.

    Args:
      schedule: the noise schedule.
      p_mean, p_std: mean and standard deviation of ``ln sigma``; ``p_std > 0``.

    Returns:
      float64 probabilities of ``t = 0 .. T-1``.
    """
    if not p_std > 0:
        raise ValueError(f"p_std must be > 0, got {p_std}")
    abar = schedule.alphas_cumprod_np
    log_sigma = 0.5 * (np.log1p(-abar) - np.log(abar))
    edges = (log_sigma[1:] + log_sigma[:-1]) / 2.0
    z = (edges - p_mean) / (p_std * math.sqrt(2.0))
    cdf = np.concatenate([[0.0], [0.5 * math.erfc(-v) for v in z], [1.0]])
    return np.diff(cdf)


def make_schedule(kind: str, num_timesteps: int) -> NoiseSchedule:
    """A named schedule (``"linear"`` or ``"cosine"``) with ``num_timesteps`` steps."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown noise schedule {kind!r}; choose one of {sorted(SCHEDULES)}")
    return SCHEDULES[kind](num_timesteps)


def _check_timesteps(num_timesteps: int) -> None:
    if not isinstance(num_timesteps, int | np.integer) or num_timesteps < 1:
        raise ValueError(f"num_timesteps must be an integer >= 1, got {num_timesteps!r}")
