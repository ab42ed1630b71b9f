"""EDM's preconditioning, training noise distribution and loss weight (Karras et al., 2022).

The denoiser is ``D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma))``
around a raw network ``F``, with (Table 1, "ours"):

* ``c_skip = sigma_data^2 / (sigma^2 + sigma_data^2)``,
* ``c_out = sigma sigma_data / sqrt(sigma^2 + sigma_data^2)``,
* ``c_in = 1 / sqrt(sigma^2 + sigma_data^2)``,
* ``c_noise = ln(sigma) / 4``;

training draws ``ln sigma ~ N(P_mean, P_std^2)`` and weights the squared error of ``D`` by
``lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2`` (``= 1 / c_out^2``: the
raw network's effective target ``(y - c_skip (y + n)) / c_out`` has unit weight and, for data
of standard deviation ``sigma_data``, unit variance at every sigma). The coefficients live in
:mod:`genjax.nn.preconditioning` (shared with the consistency family).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from genjax.core.collectives import batch_random
from genjax.nn.preconditioning import expand, preconditioning

Array = jax.Array

__all__ = ["edm_loss", "expand", "loss_weight", "preconditioning", "sample_sigmas"]


def loss_weight(sigma: Array, sigma_data: float) -> Array:
    """``lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2``."""
    return (jnp.square(sigma) + sigma_data ** 2) / jnp.square(sigma * sigma_data)


def sample_sigmas(key: Array, n: int, p_mean: float = -1.2, p_std: float = 1.2) -> Array:
    """Training noise levels ``(n,)``: ``exp(p_mean + p_std z)``, ``z ~ N(0, 1)`` per example
    (``batch_random``: pmap draws them as one device)."""
    z = batch_random(lambda k, s: jax.random.normal(k, s, jnp.float32), key, (n,))
    return jnp.exp(p_mean + p_std * z)


def edm_loss(denoise, y: Array, noise: Array, sigma: Array, sigma_data: float) -> Array:
    """``mean_i lambda(sigma_i) mean_d (D(y_i + sigma_i n_i; sigma_i) - y_i)^2``.

    Args:
      denoise: ``D(x (B, ...), sigma (B,)) -> (B, ...)``, the preconditioned denoiser.
      y: clean data ``(B, ...)``.
      noise: standard normal ``n``, shaped like ``y``.
      sigma: noise levels ``(B,)``.
      sigma_data: the data's standard deviation.

    Returns:
      The float32 scalar loss (per element: the mean over the data dimensions, like the
      ddpm and flow losses, so one learning rate serves any data size).
    """
    x = y + expand(sigma, y) * noise
    err = jnp.square(denoise(x, sigma).astype(jnp.float32) - y.astype(jnp.float32))
    per_example = jnp.mean(err.reshape(err.shape[0], -1), axis=1)
    return jnp.mean(loss_weight(sigma, sigma_data) * per_example)
