"""Progressive growing (Karras et al., 2018): G and D grow 4 -> 8 -> 16 -> 32 with a fade-in.

Both networks take ``level`` (a static Python int: resolution ``4 * 2**level``) and
``alpha`` (a traced float in [0, 1], the fade-in weight of the newest block):

* :class:`ProgressiveGenerator`: ``z`` -> 4x4 block -> [upsample x2 -> block] * level; the
  output is ``lerp(upsample(to_rgb[level-1](h_prev)), to_rgb[level](h), alpha)``, then
  nearest-upsampled to the full size, so every level returns ``(B, S, S, C)`` and one
  ``lax.switch`` over levels type-checks. Pixel norm after every convolution, LeakyReLU 0.2,
  tanh output.
* :class:`ProgressiveDiscriminator`: average-pools its full-size input to ``4 * 2**level``;
  ``lerp(from_rgb[level-1](pool(x)), block[level](from_rgb[level](x)), alpha)`` -> the
  lower blocks -> 4x4 block -> dense logit. No BatchNorm (the penalties see per-sample D's).

``init`` at the top level creates every layer of every level (``to_rgb`` / ``from_rgb`` of
all levels included), so the parameter tree never changes shape while growing. Unused layers
of a level get zero gradients. Omitted from the paper: equalised learning rate and the
minibatch-stddev layer.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array

LEAKY = 0.2


def pixel_norm(x: Array, eps: float = 1e-8) -> Array:
    """Normalises each pixel's feature vector to unit mean square (ProGAN)."""
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps)


def upsample(x: Array, factor: int) -> Array:
    """Nearest-neighbour upsampling of NHWC images by an integer factor."""
    if factor == 1:
        return x
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def downsample(x: Array, factor: int) -> Array:
    """Average pooling of NHWC images by an integer factor."""
    if factor == 1:
        return x
    n, h, w, c = x.shape
    return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def fade_images(x: Array, level: int, alpha: Array, levels: int) -> Array:
    """Real images as D sees them at a growth level: pooled to ``4 * 2**level``, faded in.

    ``lerp(up(pool(x, level - 1)), up(pool(x, level)), alpha)`` at full size, the image
    counterpart of the generator's fade (ProGAN fades the real images too).

    Args:
      x: full-size images ``(B, S, S, C)`` with ``S = 4 * 2**(levels - 1)``.
      level: the current level (static int).
      alpha: fade-in weight in [0, 1].
      levels: number of levels.

    Returns:
      Images of the same shape.
    """
    top = levels - 1
    cur = upsample(downsample(x, 2 ** (top - level)), 2 ** (top - level))
    if level == 0:
        return cur
    prev = upsample(downsample(x, 2 ** (top - level + 1)), 2 ** (top - level + 1))
    return prev + alpha * (cur - prev)


def _conv(features: int, name: str, kernel: int = 3) -> nn.Conv:
    return nn.Conv(features, (kernel, kernel), padding="SAME", name=name)


class ProgressiveGenerator(nn.Module):
    """A generator that grows by levels (see the module docstring).

    Attributes:
      features: width at each level, lowest resolution first (4, 8, 16, 32 for 4 levels).
      channels: output channels.
    """

    features: tuple[int, ...] = (128, 128, 64, 32)
    channels: int = 1

    @property
    def image_size(self) -> int:
        return 4 * 2 ** (len(self.features) - 1)

    @nn.compact
    def __call__(self, z: Array, train: bool, level: int | None = None,
                 alpha: Array | float = 1.0) -> Array:
        """Generates full-size images ``(B, S, S, channels)`` in [-1, 1] at ``level``.

        Args:
          z: latents ``(B, latent_dim)``.
          train: unused (no batch statistics); kept for the GAN's calling convention.
          level: growth level, 0 .. len(features) - 1; None: the top level.
          alpha: fade-in weight of level ``level`` (1: fully grown).
        """
        top = len(self.features) - 1
        level = top if level is None else level
        if not 0 <= level <= top:
            raise ValueError(f"level must be in 0..{top}, got {level}")
        f0 = self.features[0]
        h = nn.Dense(4 * 4 * f0, name="dense0")(pixel_norm(z))
        h = pixel_norm(nn.leaky_relu(h.reshape(z.shape[0], 4, 4, f0), LEAKY))
        h = pixel_norm(nn.leaky_relu(_conv(f0, "block0_conv")(h), LEAKY))
        hs = [h]
        deepest = top if self.is_initializing() else level
        for lv in range(1, deepest + 1):
            h = upsample(h, 2)
            for j in range(2):
                h = pixel_norm(nn.leaky_relu(_conv(self.features[lv], f"block{lv}_conv{j}")(h),
                                             LEAKY))
            hs.append(h)
        to_rgb = [nn.Conv(self.channels, (1, 1), name=f"to_rgb{lv}") for lv in range(top + 1)]
        if self.is_initializing():
            for lv in range(top + 1):
                to_rgb[lv](hs[lv])
        img = to_rgb[level](hs[level])
        if level > 0:
            prev = upsample(to_rgb[level - 1](hs[level - 1]), 2)
            img = prev + alpha * (img - prev)
        return jnp.tanh(upsample(img, 2 ** (top - level)))


class ProgressiveDiscriminator(nn.Module):
    """A discriminator that grows by levels (see the module docstring).

    Attributes:
      features: width at each level, lowest resolution first (same layout as the generator).
    """

    features: tuple[int, ...] = (128, 128, 64, 32)

    @nn.compact
    def __call__(self, x: Array, train: bool, level: int | None = None,
                 alpha: Array | float = 1.0) -> Array:
        """Scores full-size images ``(B, S, S, C)`` at ``level``; float32 logits ``(B,)``."""
        top = len(self.features) - 1
        level = top if level is None else level
        if not 0 <= level <= top:
            raise ValueError(f"level must be in 0..{top}, got {level}")
        size = 4 * 2 ** top
        if x.ndim != 4 or x.shape[1:3] != (size, size):
            raise ValueError(f"ProgressiveDiscriminator expects (B, {size}, {size}, C) images, "
                             f"got {x.shape}")
        from_rgb = [nn.Conv(self.features[lv], (1, 1), name=f"from_rgb{lv}")
                    for lv in range(top + 1)]
        blocks = {lv: [_conv(self.features[lv], f"block{lv}_conv0"),
                       _conv(self.features[lv - 1], f"block{lv}_conv1")]
                  for lv in range(1, top + 1)}

        def rgb_in(lv):
            return nn.leaky_relu(from_rgb[lv](downsample(x, 2 ** (top - lv))), LEAKY)

        def block(lv, h):  # level lv -> level lv - 1 (halves the resolution)
            for conv in blocks[lv]:
                h = nn.leaky_relu(conv(h), LEAKY)
            return downsample(h, 2)

        if self.is_initializing():  # create every level's layers once
            for lv in range(top, -1, -1):
                if lv:
                    block(lv, rgb_in(lv))
                else:
                    rgb_in(lv)
        h = rgb_in(level)
        if level > 0:
            h = block(level, h)
            h = rgb_in(level - 1) + alpha * (h - rgb_in(level - 1))
            for lv in range(level - 1, 0, -1):
                h = block(lv, h)
        f0 = self.features[0]
        h = nn.leaky_relu(_conv(f0, "block0_conv")(h), LEAKY)
        h = nn.leaky_relu(nn.Dense(f0, name="dense0")(h.reshape(h.shape[0], -1)), LEAKY)
        return nn.Dense(1, name="logit")(h)[:, 0].astype(jnp.float32)
