"""Training losses for epsilon-, x0- and v-prediction, min-SNR weighting, and conversions.

With ``a = sqrt(abar_t)`` and ``s = sqrt(1 - abar_t)`` (so ``a^2 + s^2 = 1``):

* ``x_t = a x_0 + s eps``;
* ``v = a eps - s x_0`` (Salimans & Ho, 2022);
* ``x_0 = (x_t - s eps) / a``, ``eps = (x_t - a x_0) / s``;
* ``x_0 = a x_t - s v``, ``eps = s x_t + a v``.

Min-SNR-gamma (Hang et al., 2023) weights each example's mean squared error so that the
effective x0-loss weight is ``min(snr_t, gamma)``: eps-prediction ``min(snr, gamma) / snr``,
x0-prediction ``min(snr, gamma)``, v-prediction ``min(snr, gamma) / (snr + 1)``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from genjax.core.collectives import batch_random
from genjax.families.diffusion.schedules import NoiseSchedule

Array = jax.Array

PREDICTIONS = ("eps", "x0", "v")


def check_prediction(prediction: str) -> None:
    """Raises a ValueError naming the choices when ``prediction`` is not one of them."""
    if prediction not in PREDICTIONS:
        raise ValueError(f"unknown prediction {prediction!r}; choose one of {PREDICTIONS}")


def _coefs(schedule: NoiseSchedule, t: Array, x: Array) -> tuple[Array, Array]:
    return schedule.sqrt_alphas_cumprod(t, x), schedule.sqrt_one_minus_alphas_cumprod(t, x)


def eps_to_x0(schedule: NoiseSchedule, xt: Array, t: Array, eps: Array) -> Array:
    """``x_0 = (x_t - s eps) / a``."""
    a, s = _coefs(schedule, t, xt)
    return (xt - s * eps) / a


def x0_to_eps(schedule: NoiseSchedule, xt: Array, t: Array, x0: Array) -> Array:
    """``eps = (x_t - a x_0) / s``."""
    a, s = _coefs(schedule, t, xt)
    return (xt - a * x0) / s


def velocity(schedule: NoiseSchedule, x0: Array, t: Array, eps: Array) -> Array:
    """``v = a eps - s x_0``."""
    a, s = _coefs(schedule, t, x0)
    return a * eps - s * x0


def v_to_x0(schedule: NoiseSchedule, xt: Array, t: Array, v: Array) -> Array:
    """``x_0 = a x_t - s v``."""
    a, s = _coefs(schedule, t, xt)
    return a * xt - s * v


def v_to_eps(schedule: NoiseSchedule, xt: Array, t: Array, v: Array) -> Array:
    """``eps = s x_t + a v``."""
    a, s = _coefs(schedule, t, xt)
    return s * xt + a * v


def to_x0_eps(schedule: NoiseSchedule, prediction: str, xt: Array, t: Array,
              output: Array) -> tuple[Array, Array]:
    """A model's output in any parameterisation as the pair ``(x0_hat, eps_hat)``.

    Args:
      schedule: the noise schedule.
      prediction: what the model predicts: ``"eps"``, ``"x0"`` or ``"v"``.
      xt: the noisy input.
      t: timesteps ``(B,)``.
      output: the model's output, shaped like ``xt``.

    Returns:
      ``(x0_hat, eps_hat)``.
    """
    check_prediction(prediction)
    if prediction == "eps":
        return eps_to_x0(schedule, xt, t, output), output
    if prediction == "x0":
        return output, x0_to_eps(schedule, xt, t, output)
    return v_to_x0(schedule, xt, t, output), v_to_eps(schedule, xt, t, output)


def target(schedule: NoiseSchedule, prediction: str, x0: Array, t: Array, eps: Array) -> Array:
    """What a model with this parameterisation should output for ``(x0, t, eps)``."""
    check_prediction(prediction)
    if prediction == "eps":
        return eps
    if prediction == "x0":
        return x0
    return velocity(schedule, x0, t, eps)


def min_snr_weight(schedule: NoiseSchedule, prediction: str, t: Array, gamma: float) -> Array:
    """Per-example min-SNR-gamma weights for the MSE on the ``prediction`` target, ``t.shape``."""
    check_prediction(prediction)
    snr = schedule.snr(t)
    clipped = jnp.minimum(snr, gamma)
    if prediction == "eps":
        return clipped / snr
    if prediction == "x0":
        return clipped
    return clipped / (snr + 1.0)


def diffusion_loss(
    model_fn: Callable[[Array, Array], Array],
    schedule: NoiseSchedule,
    x0: Array,
    key: Array,
    prediction: str = "eps",
    min_snr_gamma: float | None = None,
    timestep_probs: np.ndarray | None = None,
) -> tuple[Array, dict[str, Array]]:
    """The simple (unweighted or min-SNR-weighted) denoising loss on one batch.

    Timesteps ``t ~ U{0..T-1}`` (or ``t ~ timestep_probs``) and noise ``eps ~ N(0, I)`` are
    drawn per example with :func:`genjax.core.collectives.batch_random`, so a pmapped step
    draws exactly what a single device draws for the same examples.

    Args:
      model_fn: ``model_fn(x_t, t) -> output`` shaped like ``x_t``.
      schedule: the noise schedule.
      x0: clean data ``(B, ...)`` (this device's rows under pmap).
      key: the step's key (the same on every device).
      prediction: ``"eps"``, ``"x0"`` or ``"v"``.
      min_snr_gamma: gamma of min-SNR weighting, or None for the plain mean squared error.
      timestep_probs: probabilities of ``t = 0 .. T-1`` (e.g.
        :func:`~genjax.families.diffusion.schedules.lognormal_timestep_probs`), or None for
        uniform timesteps. The loss is not reweighted: this changes what is trained, like
        EDM's noise distribution.

    Returns:
      ``(loss, aux)``: the batch mean of the per-example (weighted) mean squared errors, and
      ``aux`` with ``t`` and the per-example unweighted ``mse`` ``(B,)``.
    """
    check_prediction(prediction)
    n = x0.shape[0]
    kt, kn = jax.random.split(key)
    num_t = schedule.num_timesteps
    if timestep_probs is None:
        t = batch_random(lambda k, s: jax.random.randint(k, s, 0, num_t), kt, (n,))
    else:
        probs = jnp.asarray(timestep_probs, jnp.float32)
        if probs.shape != (num_t,):
            raise ValueError(f"timestep_probs must have shape ({num_t},), got {probs.shape}")
        t = batch_random(lambda k, s: jax.random.choice(k, num_t, s, p=probs), kt, (n,))
    eps = batch_random(jax.random.normal, kn, x0.shape).astype(x0.dtype)
    xt = schedule.q_sample(x0, t, eps)
    out = model_fn(xt, t).astype(jnp.float32)
    err = jnp.square(out - target(schedule, prediction, x0, t, eps))
    mse = jnp.mean(err.reshape(n, -1), axis=1)
    weights = 1.0 if min_snr_gamma is None else min_snr_weight(schedule, prediction, t,
                                                               min_snr_gamma)
    return jnp.mean(weights * mse), {"t": t, "mse": mse}
