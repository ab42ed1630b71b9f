"""pix2pix's networks (Isola et al., 2017), NHWC, kernel 4 everywhere, for small images.

* :class:`UNetGenerator`: an encoder of ``features`` stride-2 convolutions (each halves the
  image: Conv k4 s2 p1 -> InstanceNorm -> LeakyReLU(0.2); no norm on the first and the
  innermost block) and a mirrored decoder of stride-2 transposed convolutions
  (ConvTranspose k4 s2 p1 -> InstanceNorm -> Dropout on the innermost ``dropout_blocks`` ->
  ReLU), each followed by the concatenation of the encoder's features at that size (the
  skip connections); a last ConvTranspose to ``channels`` and tanh. ``S`` must be divisible
  by ``2 ** len(features)``.
* :class:`PatchDiscriminator`: the source and the image concatenated along channels ->
  Conv k4 p1 blocks of ``features`` (stride 2, the last stride 1; InstanceNorm on all but the
  first; LeakyReLU(0.2)) -> Conv k4 s1 p1 to one logit per patch, ``(B, P, P)``. With
  ``features=(64, 128)`` on 32x32 images each of the 14x14 logits sees a 16x16 patch.

The paper's BatchNorm at batch size 1 is an instance norm; here it is one at every batch
size (``nn.GroupNorm`` with one channel per group), so neither network keeps statistics
and no example's output depends on another's. Weights are initialised N(0, 0.02), as in the
paper. Both networks use :mod:`genjax.nn.conv`'s ``Conv`` / ``ConvTranspose`` (fast
gradients on XLA-CPU).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.conv import Conv, ConvTranspose, torch_padding

Array = jax.Array
_INIT = nn.initializers.normal(0.02)


def _norm() -> nn.Module:
    return nn.GroupNorm(num_groups=None, group_size=1, epsilon=1e-5)


class UNetGenerator(nn.Module):
    """``source (B, S, S, C_in) -> image (B, S, S, channels)`` in [-1, 1] (module docstring).

    Attributes:
      features: encoder widths, outermost first (one per halving).
      channels: output channels.
      dropout: dropout rate of the innermost decoder blocks (0: none).
      dropout_blocks: how many decoder blocks, innermost first, drop out (the paper: 3).
    """

    features: tuple[int, ...] = (64, 128, 256, 256)
    channels: int = 1
    dropout: float = 0.5
    dropout_blocks: int = 3

    @nn.compact
    def __call__(self, source: Array, train: bool) -> Array:
        depth = len(self.features)
        size = source.shape[1]
        if source.shape[1] != source.shape[2] or size % 2 ** depth:
            raise ValueError(f"the U-Net halves the image {depth} times: images must be square "
                             f"with a side divisible by {2 ** depth}, got {source.shape[1:3]}")
        h, skips = source, []
        for i, width in enumerate(self.features):
            h = Conv(width, (4, 4), strides=(2, 2), padding=1, use_bias=i in (0, depth - 1),
                     kernel_init=_INIT)(h)
            if 0 < i < depth - 1:
                h = _norm()(h)
            h = nn.leaky_relu(h, 0.2)
            skips.append(h)
        up = torch_padding((4, 4), 1)
        for j, width in enumerate(reversed(self.features[:-1])):
            h = ConvTranspose(width, (4, 4), strides=(2, 2), padding=up, use_bias=False,
                              kernel_init=_INIT)(h)
            h = _norm()(h)
            if self.dropout and j < self.dropout_blocks:
                h = nn.Dropout(self.dropout)(h, deterministic=not train)
            h = jnp.concatenate([nn.relu(h), skips[depth - 2 - j]], axis=-1)
        out = ConvTranspose(self.channels, (4, 4), strides=(2, 2), padding=up,
                            kernel_init=_INIT)(h)
        return jnp.tanh(out)


class PatchDiscriminator(nn.Module):
    """``(source, image) -> (B, P, P)`` patch logits (module docstring).

    Attributes:
      features: block widths; all but the last halve the image.
    """

    features: tuple[int, ...] = (64, 128)

    @nn.compact
    def __call__(self, source: Array, image: Array) -> Array:
        if source.shape[:3] != image.shape[:3]:
            raise ValueError(f"the source {source.shape} and the image {image.shape} must "
                             "have the same batch and size")
        h = jnp.concatenate([source, image], axis=-1)
        last = len(self.features) - 1
        for i, width in enumerate(self.features):
            stride = 1 if i == last and last > 0 else 2
            h = Conv(width, (4, 4), strides=(stride, stride), padding=1, use_bias=i == 0,
                     kernel_init=_INIT)(h)
            if i > 0:
                h = _norm()(h)
            h = nn.leaky_relu(h, 0.2)
        return Conv(1, (4, 4), strides=(1, 1), padding=1, kernel_init=_INIT)(h)[..., 0]
