"""Weight initializers used by the DCGAN family (Radford et al., 2016)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax.linen import initializers

Array = jax.Array

DCGAN_STDDEV = 0.02


def dcgan_conv_init(stddev: float = DCGAN_STDDEV) -> initializers.Initializer:
    """Returns the DCGAN convolution-weight initializer, N(0, stddev^2).

    Args:
      stddev: standard deviation (the paper uses 0.02).

    Returns:
      A flax initializer ``(key, shape, dtype) -> Array``.
    """
    return initializers.normal(stddev)


def dcgan_scale_init(stddev: float = DCGAN_STDDEV) -> initializers.Initializer:
    """Returns the DCGAN BatchNorm-scale initializer, N(1, stddev^2).

    Args:
      stddev: standard deviation around 1 (the paper uses 0.02).

    Returns:
      A flax initializer ``(key, shape, dtype) -> Array``.
    """

    def init(key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
        return (1.0 + stddev * jax.random.normal(key, shape, jnp.float32)).astype(dtype)

    return init
