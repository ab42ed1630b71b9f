"""Per-image pixel distances of paired images (translation, inpainting): L1 and PSNR.

Pure ``jax.numpy`` functions (jit-able inside an objective's ``test_metrics``; NumPy arrays
work too). Images are compared in [0, 1] pixel units: callers map [-1, 1] data with
``(x + 1) / 2`` first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: The mean squared error below which PSNR is capped (100 dB for [0, 1] images).
MSE_FLOOR = 1e-10


def _per_image_mean(x: jax.Array) -> jax.Array:
    return jnp.mean(x, axis=tuple(range(1, x.ndim)))


def mean_absolute_error(images: jax.Array, targets: jax.Array) -> jax.Array:
    """``mean |images - targets|`` of each image, ``(B,)`` float32.

    Args:
      images: ``(B, ...)``.
      targets: the same shape.
    """
    if images.shape != targets.shape:
        raise ValueError(f"images {images.shape} and targets {targets.shape} differ in shape")
    diff = jnp.asarray(images, jnp.float32) - jnp.asarray(targets, jnp.float32)
    return _per_image_mean(jnp.abs(diff))


def psnr(images: jax.Array, targets: jax.Array, data_range: float = 1.0) -> jax.Array:
    """Peak signal-to-noise ratio of each image, in dB, ``(B,)`` float32:
    ``10 log10(data_range^2 / MSE)``, the MSE over all of an image's pixels and channels,
    floored at :data:`MSE_FLOOR` (identical images read 100 dB, not infinity).

    Args:
      images: ``(B, ...)``, e.g. in [0, 1] (``data_range=1``).
      targets: the same shape.
      data_range: the span of the pixel values (max - min possible).
    """
    if images.shape != targets.shape:
        raise ValueError(f"images {images.shape} and targets {targets.shape} differ in shape")
    diff = jnp.asarray(images, jnp.float32) - jnp.asarray(targets, jnp.float32)
    mse = jnp.maximum(_per_image_mean(diff ** 2), MSE_FLOOR)
    return 10.0 * jnp.log10(jnp.float32(data_range) ** 2 / mse)
