"""The VQ-VAE encoder and decoder (van den Oord et al., 2017, reduced for 28x28 digits), NHWC.

* :class:`VQEncoder`: ``x (B, S, S, C)`` -> [Conv k4 s2 p1 -> ReLU] per entry of ``features``
  (each halves the side) -> Conv k3 (``features[-1]``) -> ``num_res_blocks`` residual blocks
  -> ReLU -> Conv k1 to ``code_dim``. Output ``(B, S / 2**stages, S / 2**stages, code_dim)``:
  a 7x7 code grid for 28x28 images with the default two stages.
* :class:`VQDecoder`: the mirror image: Conv k3 -> residual blocks -> ReLU -> [ConvTranspose
  k4 s2 p1 -> ReLU] back to the input side -> a linear last layer with ``channels`` outputs.
  No output squashing: the objective's MSE compares it with images in [-1, 1].

A residual block is ``x + Conv k1(ReLU(Conv k3(ReLU(x))))`` as in the paper. Convolutions are
:mod:`genjax.nn.conv`'s (same values as flax's, fast gradients on XLA-CPU); flax's default
initialisers (LeCun normal kernels, zero biases).
"""

from __future__ import annotations

import flax.linen as nn
import jax

from genjax.nn.conv import Conv, ConvTranspose, torch_padding

Array = jax.Array

_DOWN = dict(kernel_size=(4, 4), strides=(2, 2), padding=((1, 1), (1, 1)))
_UP = dict(kernel_size=(4, 4), strides=(2, 2), padding=torch_padding((4, 4), 1))
_SAME3 = dict(kernel_size=(3, 3), padding=((1, 1), (1, 1)))


class ResidualBlock(nn.Module):
    """``x + Conv k1(ReLU(Conv k3(ReLU(x))))``.

    Attributes:
      hidden: channels of the 3x3 convolution.
    """

    hidden: int

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Applies the block; the output has the input's shape."""
        h = Conv(self.hidden, **_SAME3)(nn.relu(x))
        return x + Conv(x.shape[-1], (1, 1), padding="VALID")(nn.relu(h))


def check_image_side(side: int, stages: int) -> int:
    """The code-grid side of ``side x side`` images after ``stages`` halvings.

    Raises:
      ValueError: if ``side`` is not divisible by ``2**stages``.
    """
    if side % (2**stages):
        raise ValueError(
            f"the VQ-VAE encoder halves the image side {stages} times, so it must be divisible "
            f"by {2**stages}; got {side}. Change model.features or pad with data.image_size.")
    return side // 2**stages


class VQEncoder(nn.Module):
    """Images to a grid of continuous code vectors (before quantisation).

    Attributes:
      features: channels of the stride-2 stages, in order (one halving each).
      code_dim: D, the size of a code vector.
      num_res_blocks: residual blocks at the grid resolution.
      res_hidden: channels inside a residual block.
    """

    features: tuple[int, ...] = (32, 64)
    code_dim: int = 16
    num_res_blocks: int = 1
    res_hidden: int = 32

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Encodes.

        Args:
          x: images ``(B, S, S, C)`` in [-1, 1], ``S`` divisible by ``2**len(features)``.

        Returns:
          ``(B, S / 2**len(features), S / 2**len(features), code_dim)``.
        """
        if x.ndim != 4 or x.shape[1] != x.shape[2]:
            raise ValueError(f"VQEncoder expects square NHWC images; got shape {x.shape}")
        check_image_side(x.shape[1], len(self.features))
        for f in self.features:
            x = nn.relu(Conv(f, **_DOWN)(x))
        x = Conv(self.features[-1], **_SAME3)(x)
        for _ in range(self.num_res_blocks):
            x = ResidualBlock(self.res_hidden)(x)
        return Conv(self.code_dim, (1, 1), padding="VALID")(nn.relu(x))


class VQDecoder(nn.Module):
    """A grid of (quantised) code vectors back to images.

    Attributes:
      features: the encoder's stage channels (the decoder runs them in reverse).
      channels: image channels.
      num_res_blocks: residual blocks at the grid resolution.
      res_hidden: channels inside a residual block.
    """

    features: tuple[int, ...] = (32, 64)
    channels: int = 1
    num_res_blocks: int = 1
    res_hidden: int = 32

    @nn.compact
    def __call__(self, z: Array) -> Array:
        """Decodes.

        Args:
          z: ``(B, s, s, D)`` code vectors.

        Returns:
          Images ``(B, s * 2**len(features), ..., channels)``, unbounded (trained towards
          [-1, 1]).
        """
        x = Conv(self.features[-1], **_SAME3)(z)
        for _ in range(self.num_res_blocks):
            x = ResidualBlock(self.res_hidden)(x)
        x = nn.relu(x)
        for f in reversed(self.features[:-1]):
            x = nn.relu(ConvTranspose(f, **_UP)(x))
        return ConvTranspose(self.channels, **_UP)(x)
