"""DiffAugment (Zhao et al., 2020): differentiable augmentations for D's inputs, NHWC.

The GAN applies the same policy to real and generated batches in every discriminator pass
(each call draws its own random parameters, per sample); every operation is differentiable
with respect to the images, so G's gradient flows through the augmentation. Following the
reference implementation (github.com/mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch``):

* ``color``: brightness ``+ U(-0.5, 0.5)``; saturation ``(x - mean_c) * U(0, 2) + mean_c``
  (mean over channels); contrast ``(x - mean) * U(0.5, 1.5) + mean`` (mean over the image).
* ``translation``: shift by integers in ``[-s, s]`` per axis, ``s = round(size / 8)``,
  zeros shifted in.
* ``cutout``: zero a square of side ``round(size / 2)`` at a random centre (clipped).

Randomness is drawn with :func:`genjax.core.collectives.batch_random`, so under ``jax.pmap``
(over the data axis) each example gets the values a single device would give it.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from genjax.core.collectives import batch_random

POLICIES = ("color", "translation", "cutout")


def validate_policy(policy: Sequence[str]) -> None:
    """Raises ValueError naming the known policies if ``policy`` holds an unknown one."""
    unknown = [p for p in policy if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown}; choose from {POLICIES} "
                         "(e.g. augment='color,translation,cutout')")


def _uniform(key, n, lo=0.0, hi=1.0):
    u = batch_random(jax.random.uniform, key, (n,))
    return (lo + (hi - lo) * u).reshape(n, 1, 1, 1)


def color(x: jax.Array, key: jax.Array) -> jax.Array:
    """Random brightness, saturation and contrast, per sample (see the module docstring)."""
    n = x.shape[0]
    kb, ks, kc = jax.random.split(key, 3)
    x = x + _uniform(kb, n, -0.5, 0.5).astype(x.dtype)
    mean_c = jnp.mean(x, axis=3, keepdims=True)
    x = (x - mean_c) * _uniform(ks, n, 0.0, 2.0).astype(x.dtype) + mean_c
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * _uniform(kc, n, 0.5, 1.5).astype(x.dtype) + mean


def translation(x: jax.Array, key: jax.Array, ratio: float = 0.125) -> jax.Array:
    """Shifts each image by random integers in ``[-s, s]`` (``s = int(size * ratio + 0.5)``)."""
    n, h, w, c = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sh == 0 and sw == 0:
        return x
    ky, kx = jax.random.split(key)
    dy = batch_random(lambda k, s: jax.random.randint(k, s, -sh, sh + 1), ky, (n,))
    dx = batch_random(lambda k, s: jax.random.randint(k, s, -sw, sw + 1), kx, (n,))
    padded = jnp.pad(x, ((0, 0), (sh, sh), (sw, sw), (0, 0)))
    # output pixel (i, j) reads input (i + dy, j + dx): a window of the zero-padded image
    return jax.vmap(lambda img, a, b: jax.lax.dynamic_slice(img, (sh + a, sw + b, 0),
                                                            (h, w, c)))(padded, dy, dx)


def cutout(x: jax.Array, key: jax.Array, ratio: float = 0.5) -> jax.Array:
    """Zeroes one square of side ``int(size * ratio + 0.5)`` per image at a random centre."""
    n, h, w, _ = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ky, kx = jax.random.split(key)
    oy = batch_random(lambda k, s: jax.random.randint(k, s, 0, h + (1 - ch % 2)), ky, (n,))
    ox = batch_random(lambda k, s: jax.random.randint(k, s, 0, w + (1 - cw % 2)), kx, (n,))
    rows = jnp.arange(h)[None, :] - (oy[:, None] - ch // 2)  # (n, h): inside when in [0, ch)
    cols = jnp.arange(w)[None, :] - (ox[:, None] - cw // 2)
    inside = (((rows >= 0) & (rows < ch))[:, :, None]
              & ((cols >= 0) & (cols < cw))[:, None, :])
    return x * (~inside)[..., None].astype(x.dtype)


_OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: jax.Array, key: jax.Array, policy: Sequence[str]) -> jax.Array:
    """Applies the policies in order with independent per-sample randomness.

    Args:
      x: images ``(B, H, W, C)``.
      key: PRNG key (a fresh one per call: real and fake batches get independent draws).
      policy: names from :data:`POLICIES`, applied in the given order.

    Returns:
      Augmented images, same shape and dtype as ``x``.

    Raises:
      ValueError: unknown policy, or inputs that are not NHWC images.
    """
    validate_policy(policy)
    if x.ndim != 4:
        raise ValueError(f"DiffAugment needs images (B, H, W, C), got shape {x.shape}; "
                         "turn augment off for point data")
    for name, k in zip(policy, jax.random.split(key, max(len(policy), 1)), strict=False):
        x = _OPS[name](x, k)
    return x
