"""Perceptual losses of neural style transfer: Gram matrices, content, style, total variation.

Features are NHWC activations of a feature network (e.g. :class:`genjax.nn.vgg.VGG19Features`),
given as arrays or name -> array mappings; nothing here runs a network.

Conventions (Johnson et al. 2016, "Perceptual losses for real-time style transfer"; the
PyTorch neural-style tutorial uses the same normalisation):

* :func:`gram_matrix` of features ``F`` (``C`` channels over ``N = H W`` positions) is
  ``G = F^T F / (C H W)``: each entry is a channel correlation averaged over positions and
  divided by ``C``, so layers of different sizes give comparable numbers. (Gatys et al. 2016
  use the unnormalised ``F^T F`` with a factor ``1 / (4 N^2 C^2)`` in the loss instead.)
* :func:`content_loss` is the mean squared difference of two feature maps (Johnson's
  ``||phi(x) - phi(y)||^2 / (C H W)``), averaged over the batch.
* :func:`style_loss` is ``sum_l w_l mean((G_l(x) - G_l(s))^2)``, a weighted sum over layers of
  the mean squared Gram difference (mean over the ``C x C`` entries and the batch).
* :func:`total_variation` is the squared (``beta = 2``) total variation: the mean squared
  difference of vertically adjacent pixels plus that of horizontally adjacent ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

Array = jax.Array


def gram_matrix(features: Array) -> Array:
    """``F^T F / (C H W)`` per example.

    Args:
      features: (B, H, W, C) activations.

    Returns:
      (B, C, C) Gram matrices (float32 or the input's wider float type).
    """
    if features.ndim != 4:
        raise ValueError(f"gram_matrix takes (B, H, W, C) features, got shape {features.shape}")
    b, h, w, c = features.shape
    f = features.reshape(b, h * w, c)
    return jnp.einsum("bnc,bnd->bcd", f, f, precision=jax.lax.Precision.HIGHEST) / (c * h * w)


def content_loss(features: Array, target: Array) -> Array:
    """Mean squared difference of two (B, H, W, C) feature maps (a scalar)."""
    if features.shape != target.shape:
        raise ValueError(f"content features {features.shape} and target {target.shape} differ "
                         "in shape; compute both on images of the same size")
    return jnp.mean(jnp.square(features - target))


def style_loss(features: Mapping[str, Array], target_grams: Mapping[str, Array],
               weights: Mapping[str, float] | None = None) -> Array:
    """``sum_l w_l mean((gram(F_l) - G_l)^2)`` over the layers of ``target_grams``.

    Args:
      features: layer name -> (B, H, W, C) activations of the image being optimised.
      target_grams: layer name -> (B or 1, C, C) Gram matrices of the style image
        (broadcast over the batch).
      weights: layer name -> weight; default 1 for every layer.

    Returns:
      The scalar loss.
    """
    missing = sorted(set(target_grams) - set(features))
    if missing:
        raise ValueError(f"style layers {', '.join(missing)} have no features; compute them")
    total = jnp.zeros((), jnp.float32)
    for name, target in target_grams.items():
        w = 1.0 if weights is None else weights[name]
        total = total + w * jnp.mean(jnp.square(gram_matrix(features[name]) - target))
    return total


def total_variation(images: Array) -> Array:
    """Squared total variation: mean of ``(x[i+1, j] - x[i, j])^2`` plus mean of
    ``(x[i, j+1] - x[i, j])^2`` over the batch, positions and channels.

    Args:
      images: (B, H, W, C), H and W at least 2.

    Returns:
      The scalar loss.
    """
    if images.ndim != 4 or images.shape[1] < 2 or images.shape[2] < 2:
        raise ValueError(f"total_variation takes (B, H, W, C) images with H, W >= 2, got "
                         f"shape {images.shape}")
    dy = images[:, 1:] - images[:, :-1]
    dx = images[:, :, 1:] - images[:, :, :-1]
    return jnp.mean(jnp.square(dy)) + jnp.mean(jnp.square(dx))
