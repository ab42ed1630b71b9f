"""Sinusoidal timestep embeddings shared by the diffusion denoisers."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

Array = jax.Array


def timestep_embedding(t: Array, dim: int, max_period: float = 10_000.0) -> Array:
    """The Transformer's sinusoidal embedding of (integer or real) timesteps, as in DDPM.

    ``emb[:, i] = cos(t * f_i)`` for ``i < dim/2`` and ``sin(t * f_i)`` after, with
    ``f_i = max_period ** (-i / (dim/2))``; an odd ``dim`` gets one zero column.

    Args:
      t: timesteps ``(B,)``.
      dim: embedding width.
      max_period: the longest wavelength.

    Returns:
      float32 ``(B, dim)``.
    """
    if t.ndim != 1:
        raise ValueError(f"timesteps must have shape (batch,), got {t.shape}")
    half = dim // 2
    freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
    args = t.astype(jnp.float32)[:, None] * freqs[None]
    emb = jnp.concatenate([jnp.cos(args), jnp.sin(args)], axis=-1)
    if dim % 2:
        emb = jnp.pad(emb, ((0, 0), (0, 1)))
    return emb
