"""DDPM ancestral and DDIM samplers, each one compiled program (``lax.scan`` over the steps).

A sampler takes a *denoiser* ``denoise(x_t, t) -> (x0_hat, eps_hat)`` (any parameterisation
converted with :func:`genjax.families.diffusion.losses.to_x0_eps`, guidance already
applied), the schedule, the start noise ``x_T`` and a key. The model is traced once: the
loop over timesteps is a ``lax.scan``, so a 1000-step sampler compiles as fast as a 10-step
one and runs without a Python round trip per step.

* :func:`ddpm_sample`: ``x_{t-1} = c1_t x0_hat + c2_t x_t + sigma_t z`` over all T steps with
  ``sigma_t^2 = beta_tilde_t`` ("small", the posterior variance) or ``beta_t`` ("large");
  no noise at the last step.
* :func:`ddim_sample` (Song et al., 2021, eq. 12): on a decreasing sub-sequence
  ``tau_1 > ... > tau_S`` of ``0..T-1`` (:func:`ddim_timesteps`, always starting at T-1),
  ``x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma z`` with
  ``sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev)`` and
  ``abar_prev = 1`` after the last step (which then returns ``x0_hat``). ``eta=0`` is
  deterministic given ``x_T``; ``eta=1`` with all T steps has the DDPM posterior variance.

With ``clip=(lo, hi)`` each ``x0_hat`` is clipped to the data range and ``eps_hat`` recomputed
from the clipped value (as in the DDPM and improved-diffusion code).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from genjax.families.diffusion.schedules import NoiseSchedule

Array = jax.Array
Denoiser = Callable[[Array, Array], tuple[Array, Array]]

DDPM_VARIANCES = ("small", "large")


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
    """The DDIM sub-sequence: ``steps`` distinct timesteps from T-1 down to 0, evenly spaced.

    Args:
      num_timesteps: T.
      steps: S, with ``1 <= S <= T``; S = T gives every timestep.

    Returns:
      int64 array ``(S,)``, strictly decreasing, first entry ``T-1`` (last ``0`` when S > 1).
    """
    if not 1 <= steps <= num_timesteps:
        raise ValueError(f"steps must be in [1, {num_timesteps}] (the schedule's T), got {steps}")
    return np.round(np.linspace(num_timesteps - 1, 0, steps)).astype(np.int64)


def ddim_coefficients(schedule: NoiseSchedule, steps: int, eta: float) -> dict[str, np.ndarray]:
    """The float64 tables of a DDIM run.

    Args:
      schedule: the noise schedule.
      steps: number of sampling steps S.
      eta: 0 for deterministic DDIM, 1 for DDPM-like noise.

    Returns:
      ``t``, ``abar``, ``abar_prev`` (1 after the last step) and ``sigma``, each ``(S,)``.
    """
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    t = ddim_timesteps(schedule.num_timesteps, steps)
    abar = schedule.alphas_cumprod_np[t]
    abar_prev = np.append(abar[1:], 1.0)
    sigma = eta * np.sqrt((1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev))
    return {"t": t, "abar": abar, "abar_prev": abar_prev, "sigma": sigma}


def _clipped(x: Array, x0: Array, eps: Array, sqrt_abar: Array, sqrt_1m_abar: Array,
             clip: tuple[float, float] | None) -> tuple[Array, Array]:
    if clip is None:
        return x0, eps
    x0 = jnp.clip(x0, clip[0], clip[1])
    return x0, (x - sqrt_abar * x0) / sqrt_1m_abar


def ddim_sample(denoise: Denoiser, schedule: NoiseSchedule, x_T: Array, key: Array, steps: int,
                eta: float = 0.0, clip: tuple[float, float] | None = None) -> Array:
    """DDIM sampling from ``x_T`` in ``steps`` steps (see the module docstring).

    Args:
      denoise: ``(x_t, t (B,)) -> (x0_hat, eps_hat)``.
      schedule: the noise schedule.
      x_T: start noise ``(B, ...)``, standard normal.
      key: randomness of the ``eta > 0`` noise (unused when ``eta == 0``).
      steps: number of denoising steps S in ``[1, T]``.
      eta: DDIM's stochasticity.
      clip: ``(lo, hi)`` range for ``x0_hat``, or None.

    Returns:
      The samples ``x_0``, float32, shaped like ``x_T``.
    """
    c = ddim_coefficients(schedule, steps, eta)
    f32 = {k: jnp.asarray(v.astype(np.float32)) for k, v in c.items() if k != "t"}
    xs = {"t": jnp.asarray(c["t"].astype(np.int32)), **f32,
          "key": jax.random.split(key, steps)}
    n = x_T.shape[0]

    def step(x, s):
        t = jnp.full((n,), s["t"], jnp.int32)
        sa, s1 = jnp.sqrt(s["abar"]), jnp.sqrt(1.0 - s["abar"])
        x0, eps = denoise(x, t)
        x0, eps = _clipped(x, x0, eps, sa, s1, clip)
        direction = jnp.sqrt(jnp.maximum(1.0 - s["abar_prev"] - s["sigma"] ** 2, 0.0)) * eps
        x = jnp.sqrt(s["abar_prev"]) * x0 + direction
        if eta > 0:
            x = x + s["sigma"] * jax.random.normal(s["key"], x.shape, x.dtype)
        return x, None

    x, _ = jax.lax.scan(step, x_T.astype(jnp.float32), xs)
    return x


def ddpm_sample(denoise: Denoiser, schedule: NoiseSchedule, x_T: Array, key: Array,
                variance: str = "small", clip: tuple[float, float] | None = None) -> Array:
    """DDPM ancestral sampling from ``x_T`` over all T steps (see the module docstring).

    Args:
      denoise: ``(x_t, t (B,)) -> (x0_hat, eps_hat)``.
      schedule: the noise schedule.
      x_T: start noise ``(B, ...)``.
      key: randomness of the per-step noise.
      variance: ``"small"`` (``beta_tilde_t``) or ``"large"`` (``beta_t``).
      clip: ``(lo, hi)`` range for ``x0_hat``, or None.

    Returns:
      The samples ``x_0``, float32.
    """
    if variance not in DDPM_VARIANCES:
        raise ValueError(f"unknown DDPM variance {variance!r}; choose one of {DDPM_VARIANCES}")
    T = schedule.num_timesteps
    log_var = (schedule.posterior_log_variance_clipped_np if variance == "small"
               else np.log(schedule.large_variance_np))
    ts = np.arange(T - 1, -1, -1)
    xs = {
        "t": jnp.asarray(ts.astype(np.int32)),
        "sd": jnp.asarray(np.exp(0.5 * log_var[ts]).astype(np.float32)),
        "sa": jnp.asarray(np.sqrt(schedule.alphas_cumprod_np[ts]).astype(np.float32)),
        "s1": jnp.asarray(np.sqrt(1.0 - schedule.alphas_cumprod_np[ts]).astype(np.float32)),
        "c1": jnp.asarray(schedule.posterior_mean_coef1_np[ts].astype(np.float32)),
        "c2": jnp.asarray(schedule.posterior_mean_coef2_np[ts].astype(np.float32)),
        "key": jax.random.split(key, T),
    }
    n = x_T.shape[0]

    def step(x, s):
        t = jnp.full((n,), s["t"], jnp.int32)
        x0, eps = denoise(x, t)
        x0, _ = _clipped(x, x0, eps, s["sa"], s["s1"], clip)
        mean = s["c1"] * x0 + s["c2"] * x
        noise = jax.random.normal(s["key"], x.shape, x.dtype)
        return mean + jnp.where(s["t"] > 0, s["sd"], 0.0) * noise, None

    x, _ = jax.lax.scan(step, x_T.astype(jnp.float32), xs)
    return x
