"""Pixel likelihoods and image conventions shared by the autoencoder families.

Images enter every family in [-1, 1] (``genjax.data.pipeline.images_to_float``). The
Bernoulli likelihood reads them as intensities ``p = (x + 1) / 2`` in [0, 1].

Every log-probability here is per image: summed over all pixels and channels, never
averaged, so the numbers are in nats per image (the convention of the VAE/IWAE papers).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from genjax.core.collectives import batch_random

LOG_2PI = math.log(2.0 * math.pi)


def to_unit(images: jax.Array) -> jax.Array:
    """Images in [-1, 1] to intensities in [0, 1]."""
    return (images + 1.0) * 0.5


def from_unit(intensities: jax.Array) -> jax.Array:
    """Intensities in [0, 1] to images in [-1, 1]."""
    return intensities * 2.0 - 1.0


def binarize(key: jax.Array, intensities: jax.Array) -> jax.Array:
    """Dynamic binarisation: each pixel ``~ Bernoulli(intensity)``, independently.

    ``x_bin = 1[u < p]`` with ``u ~ U[0, 1)``, so ``P(x_bin = 1) = p`` exactly; pixels already
    0 or 1 are left unchanged (``u < 0`` never holds, ``u < 1`` always does). Under pmap the
    draw is the one a single device makes for the global batch (see
    ``genjax.core.collectives.batch_random``).

    Args:
      key: the randomness (the step's key: a fresh binarisation every step).
      intensities: ``(B, ...)`` in [0, 1].

    Returns:
      float32 0/1 array of the same shape.
    """
    u = batch_random(jax.random.uniform, key, intensities.shape)
    return (u < intensities).astype(jnp.float32)


def _sum_event(x: jax.Array, event_ndim: int) -> jax.Array:
    return jnp.sum(x, axis=tuple(range(x.ndim - event_ndim, x.ndim)))


def bernoulli_log_prob(logits: jax.Array, x: jax.Array, event_ndim: int = 3) -> jax.Array:
    """``log p(x) = sum x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))``, per image.

    Computed as ``x * l - softplus(l)``, finite for any logit. For ``x`` in [0, 1] that is not
    binary this is the negative binary cross-entropy (not a normalised likelihood).

    Args:
      logits: ``(..., H, W, C)`` decoder logits (broadcast against ``x``).
      x: targets in [0, 1].
      event_ndim: trailing axes summed over (3 for NHWC images).

    Returns:
      ``(...)`` log-probabilities in nats.
    """
    return _sum_event(x * logits - jax.nn.softplus(logits), event_ndim)


def gaussian_log_prob(mean: jax.Array, log_scale: jax.Array, x: jax.Array,
                      event_ndim: int = 3) -> jax.Array:
    """Diagonal Gaussian log-density ``sum -((x-m)/s)^2/2 - log s - log(2 pi)/2``, per image.

    Args:
      mean: ``(..., H, W, C)`` decoder means.
      log_scale: log standard deviation, broadcast against ``mean`` (e.g. one per channel).
      x: data (continuous, here in [-1, 1]).
      event_ndim: trailing axes summed over.

    Returns:
      ``(...)`` log-densities in nats (a density: may be positive).
    """
    z = (x - mean) * jnp.exp(-log_scale)
    return _sum_event(-0.5 * z * z - log_scale - 0.5 * LOG_2PI + jnp.zeros_like(x), event_ndim)


def standard_normal_log_prob(z: jax.Array) -> jax.Array:
    """``log N(z; 0, I)`` summed over the last axis."""
    return jnp.sum(-0.5 * z * z - 0.5 * LOG_2PI, axis=-1)


def diag_normal_log_prob(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis."""
    return jnp.sum(-0.5 * (z - mean) ** 2 * jnp.exp(-log_var) - 0.5 * log_var - 0.5 * LOG_2PI,
                   axis=-1)


RECONSTRUCTION_LOSSES = ("bce", "mse")


def reconstruction_loss(kind: str, output: jax.Array, clean: jax.Array) -> jax.Array:
    """A deterministic autoencoder's loss per image, summed over pixels, then batch mean.

    Args:
      kind: ``"bce"``: binary cross-entropy between the decoder's logits and the clean
        intensities ``(x + 1) / 2`` (``-bernoulli_log_prob``); ``"mse"``: squared error between
        the decoder's output and the clean image in [-1, 1], summed over pixels.
      output: decoder output ``(B, H, W, C)`` (logits for bce, images for mse).
      clean: clean images in [-1, 1].

    Returns:
      Scalar loss.
    """
    if kind == "bce":
        return -jnp.mean(bernoulli_log_prob(output, to_unit(clean)))
    if kind == "mse":
        return jnp.mean(_sum_event((output - clean) ** 2, 3))
    raise ValueError(f"unknown reconstruction loss {kind!r}; choose one of {RECONSTRUCTION_LOSSES}")


def output_images(kind: str, output: jax.Array) -> jax.Array:
    """Decoder output to images in [-1, 1]: Bernoulli means for bce, clipped means for mse."""
    if kind == "bce":
        return from_unit(jax.nn.sigmoid(output))
    return jnp.clip(output, -1.0, 1.0)
