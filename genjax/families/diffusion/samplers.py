"""DDPM ancestral, DDIM and DPM-Solver++(2M) samplers, each one compiled ``lax.scan``.

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

* :func:`dpm_solver_pp_sample` (DPM-Solver++(2M), Lu et al., 2022, Algorithm 2): the
  exponential integrator of the probability-flow ODE in data-prediction form, in the
  log-SNR ``lambda_t = log(alpha_t / sigma_t)`` (``alpha_t = sqrt(abar_t)``,
  ``sigma_t = sqrt(1 - abar_t)``) on timesteps spaced uniformly in ``lambda``
  (:func:`dpm_solver_timesteps`): with ``h_i = lambda_i - lambda_{i-1}``,
  ``x_i = (sigma_i / sigma_{i-1}) x_{i-1} - alpha_i (e^{-h_i} - 1) D_i``, where
  ``D_i = x0_hat_{i-1}`` for the first step (and with ``order=1``: then each step is DDIM's
  with ``eta=0``) and ``D_i = (1 + 1 / (2 r_i)) x0_hat_{i-1} - x0_hat_{i-2} / (2 r_i)``,
  ``r_i = h_{i-1} / h_i``, after it (one network evaluation per step: the previous
  prediction is reused). The last step goes to ``sigma = 0`` (``h`` infinite), where the
  update is ``x0_hat`` itself, as DDIM's last step.

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
DPM_SOLVER_ORDERS = (1, 2)


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


def dpm_solver_timesteps(schedule: NoiseSchedule, steps: int) -> np.ndarray:
    """``steps`` distinct integer timesteps from T-1 down to 0, uniform in log-SNR.

    The points ``lambda_k`` evenly spaced between ``lambda_{T-1}`` and ``lambda_0`` are mapped
    to the (continuous) timestep where the schedule's ``lambda_t`` takes that value, rounded,
    and made strictly decreasing (near ``t = 0`` the
    log-SNR moves fastest, so large ``steps`` would otherwise repeat timesteps: the smallest
    shift up that makes them distinct is taken).

    Args:
      schedule: the noise schedule.
      steps: S, with ``1 <= S <= T``.

    Returns:
      int64 array ``(S,)``, strictly decreasing, first entry ``T-1``, last ``0`` (S > 1).
    """
    T = schedule.num_timesteps
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in [1, {T}] (the schedule's T), got {steps}")
    if steps == 1:
        return np.array([T - 1], np.int64)
    abar = schedule.alphas_cumprod_np
    lam = 0.5 * (np.log(abar) - np.log1p(-abar))  # decreasing in t
    targets = np.linspace(lam[-1], lam[0], steps)  # from lambda_{T-1} up to lambda_0
    # np.interp needs increasing abscissae: lambda reversed against t reversed
    t = np.round(np.interp(targets, lam[::-1], np.arange(T - 1, -1, -1, dtype=np.float64)))
    # t strictly decreasing <=> u_i = t_i - (S-1-i) non-increasing, within [0, T-S]
    below = np.arange(steps - 1, -1, -1)
    u = np.clip(t.astype(np.int64) - below, 0, T - steps)
    u[0], u[-1] = T - steps, 0
    return np.maximum.accumulate(u[::-1])[::-1] + below


def dpm_solver_coefficients(schedule: NoiseSchedule, timesteps: np.ndarray,
                            order: int = 2) -> dict[str, np.ndarray]:
    """The float64 tables of a DPM-Solver++ run on ``timesteps`` (decreasing, model times).

    Step ``i`` evaluates the model at ``timesteps[i]`` and moves to ``timesteps[i + 1]``
    (``sigma = 0``, ``alpha = 1`` after the last). ``x_next = ratio x + c0 x0_hat + c1 x0_prev``
    with ``ratio = sigma_next / sigma``, ``c = -alpha_next (e^{-h} - 1)`` and, for 2M,
    ``c0 = c (1 + 1 / (2 r))``, ``c1 = -c / (2 r)`` (``r = h_prev / h``); the first step,
    the last (``h`` infinite) and every step of ``order=1`` have ``c0 = c, c1 = 0``.

    Returns:
      ``t`` (int64), ``ratio``, ``c0``, ``c1``, each ``(S,)``.
    """
    if order not in DPM_SOLVER_ORDERS:
        raise ValueError(f"DPM-Solver++ order must be one of {DPM_SOLVER_ORDERS}, got {order}")
    t = np.asarray(timesteps, np.int64)
    abar = schedule.alphas_cumprod_np[t]
    alpha, sigma = np.sqrt(abar), np.sqrt(1.0 - abar)
    lam = np.log(alpha) - np.log(sigma)
    alpha_next = np.append(alpha[1:], 1.0)
    sigma_next = np.append(sigma[1:], 0.0)
    ratio = sigma_next / sigma
    h = np.append(lam[1:] - lam[:-1], np.inf)
    c = alpha_next * -np.expm1(-h)  # = alpha_next (1 - e^{-h}); 1 at the last step
    c0, c1 = c.copy(), np.zeros_like(c)
    if order == 2 and len(t) > 2:
        i = np.arange(1, len(t) - 1)  # second-order steps: neither the first nor the last
        r = h[i - 1] / h[i]
        c0[i] = c[i] * (1.0 + 0.5 / r)
        c1[i] = -c[i] * 0.5 / r
    return {"t": t, "ratio": ratio, "c0": c0, "c1": c1}


def dpm_solver_pp_sample(denoise: Denoiser, schedule: NoiseSchedule, x_T: Array, steps: int,
                         clip: tuple[float, float] | None = None, order: int = 2,
                         timesteps: np.ndarray | None = None) -> Array:
    """DPM-Solver++(2M) sampling from ``x_T`` in ``steps`` network evaluations (see the
    module docstring); deterministic given ``x_T``.

    Args:
      denoise: ``(x_t, t (B,)) -> (x0_hat, eps_hat)`` (only ``x0_hat`` is used).
      schedule: the noise schedule.
      x_T: start noise ``(B, ...)``, standard normal.
      steps: number of steps S in ``[1, T]`` (one network evaluation each).
      clip: ``(lo, hi)`` range for ``x0_hat``, or None.
      order: 2 (2M, multistep) or 1 (first order: DDIM with ``eta=0`` on these timesteps).
      timesteps: the decreasing model timesteps to use instead of the log-SNR-uniform ones
        (:func:`dpm_solver_timesteps`); their length must be ``steps``.

    Returns:
      The samples ``x_0``, float32, shaped like ``x_T``.
    """
    if timesteps is None:
        timesteps = dpm_solver_timesteps(schedule, steps)
    timesteps = np.asarray(timesteps, np.int64)
    if timesteps.shape != (steps,) or np.any(np.diff(timesteps) >= 0):
        raise ValueError(f"timesteps must be {steps} strictly decreasing model times")
    c = dpm_solver_coefficients(schedule, timesteps, order)
    xs = {"t": jnp.asarray(c["t"].astype(np.int32)),
          **{k: jnp.asarray(c[k].astype(np.float32)) for k in ("ratio", "c0", "c1")}}
    n = x_T.shape[0]
    x = x_T.astype(jnp.float32)

    def step(carry, s):
        x, x0_prev = carry
        x0, _ = denoise(x, jnp.full((n,), s["t"], jnp.int32))
        if clip is not None:
            x0 = jnp.clip(x0, clip[0], clip[1])
        x = s["ratio"] * x + s["c0"] * x0 + s["c1"] * x0_prev
        return (x, x0), None

    (x, _), _ = jax.lax.scan(step, (x, jnp.zeros_like(x)), xs)
    return x
