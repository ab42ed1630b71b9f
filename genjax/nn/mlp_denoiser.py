"""A small MLP denoiser for low-dimensional data (the 2D mixtures).

``MLPDenoiser(x, t, label=None, train=False)``: ``x (B, D)`` and timesteps ``(B,)`` to an output
``(B, D)``. The timestep gets the UNet's sinusoidal embedding followed by Dense -> SiLU ->
Dense. With ``input_features > 0`` each coordinate is also embedded the same way (scaled by
``input_scale``; the sinusoidal input features of tiny-diffusion), which lets a small MLP
resolve sharp modes in a few hundred steps. Each hidden layer is
``h = SiLU(Dense(h) + Dense(temb))`` with a residual connection after the first, and the
output layer is zero-initialised.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.embeddings import timestep_embedding

Array = jax.Array


class MLPDenoiser(nn.Module):
    """Residual MLP with a timestep embedding (see the module docstring).

    Attributes:
      features: hidden width.
      num_layers: hidden layers (>= 1).
      time_dim: width of the sinusoidal embedding.
      input_features: width of the sinusoidal embedding of each input coordinate (0: none,
        the raw coordinates only).
      input_scale: coordinates are multiplied by this before their embedding.
      num_classes: classes for conditioning (label embedding added to the time embedding,
        row ``num_classes`` the null label), or None.
      dtype: computation dtype; the output is float32.
      param_dtype: parameter dtype.
    """

    features: int = 128
    num_layers: int = 3
    time_dim: int = 64
    input_features: int = 0
    input_scale: float = 25.0
    num_classes: int | None = None
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Array, t: Array, label: Array | None = None,
                 train: bool = False) -> Array:
        """Predicts the denoising target.

        Args:
          x: noisy points ``(B, D)``.
          t: integer timesteps ``(B,)``.
          label: class labels or None (only with ``num_classes``).
          train: unused (no dropout); kept for the denoiser interface.

        Returns:
          float32 ``(B, D)``.
        """
        if x.ndim != 2:
            raise ValueError(f"MLPDenoiser expects points (batch, dim), got {x.shape}; use the "
                             "UNet for images")
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {self.num_layers}")
        mods = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        temb = timestep_embedding(t, self.time_dim).astype(self.dtype)
        temb = nn.Dense(self.features, **mods)(nn.silu(nn.Dense(self.features, **mods)(temb)))
        if self.num_classes is not None:
            if label is None:
                label = jnp.full((x.shape[0],), self.num_classes, jnp.int32)
            temb = temb + nn.Embed(self.num_classes + 1, self.features, **mods)(label)
        elif label is not None:
            raise ValueError("this MLPDenoiser is unconditional (num_classes=None) but got labels")
        h = x.astype(jnp.float32)
        if self.input_features:
            coords = [timestep_embedding(self.input_scale * x[:, i], self.input_features)
                      for i in range(x.shape[-1])]
            h = jnp.concatenate([h, *coords], axis=-1)
        h = h.astype(self.dtype)
        for i in range(self.num_layers):
            y = nn.silu(nn.Dense(self.features, **mods)(h) + nn.Dense(self.features, **mods)(temb))
            h = y if i == 0 else h + y
        out = nn.Dense(x.shape[-1], kernel_init=nn.initializers.zeros, **mods)(h)
        return out.astype(jnp.float32)
