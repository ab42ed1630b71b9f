"""Johnson et al.'s image transformation network (2016), with instance normalisation.

    9x9 conv (F) -> 3x3/2 conv (2F) -> 3x3/2 conv (4F) -> R residual blocks (4F)
    -> nearest x2 + 3x3 conv (2F) -> nearest x2 + 3x3 conv (F) -> 9x9 conv (3) -> tanh

Every convolution but the last is followed by instance normalisation (Ulyanov et al.
2016, as the fast-neural-style code uses instead of the paper's batch norm) and a ReLU;
inputs are reflection-padded; upsampling is nearest-neighbour then a convolution (which
avoids transposed-convolution checkerboards). The paper's network has F = 32, R = 5.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class ConvLayer(nn.Module):
    """Reflection padding, a ``kernel x kernel`` convolution, then (optionally) instance
    norm and ReLU.

    Attributes:
      features: output channels.
      kernel: kernel size (odd).
      strides: stride.
      norm_relu: follow with InstanceNorm and ReLU.
    """

    features: int
    kernel: int
    strides: int = 1
    norm_relu: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        p = self.kernel // 2
        x = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
        x = nn.Conv(self.features, (self.kernel, self.kernel), strides=self.strides,
                    padding="VALID")(x)
        if self.norm_relu:
            x = nn.relu(nn.InstanceNorm(epsilon=1e-5)(x))
        return x


class ResidualBlock(nn.Module):
    """``x + IN(conv(ReLU(IN(conv(x)))))`` with 3x3 convolutions.

    Attributes:
      features: channels.
    """

    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = ConvLayer(self.features, 3)(x)
        p = 1
        h = jnp.pad(h, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
        h = nn.InstanceNorm(epsilon=1e-5)(nn.Conv(self.features, (3, 3), padding="VALID")(h))
        return x + h


class TransformerNet(nn.Module):
    """Images in [-1, 1] (RGB) to stylised images in [-1, 1], the same shape.

    Attributes:
      features: F, the first layer's width (the paper: 32).
      residual_blocks: R (the paper: 5).
    """

    features: int = 32
    residual_blocks: int = 5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        """Stylises (B, H, W, 3) images, H and W divisible by 4."""
        if x.ndim != 4 or x.shape[-1] != 3 or x.shape[1] % 4 or x.shape[2] % 4:
            raise ValueError(f"TransformerNet takes (B, H, W, 3) images with H and W divisible "
                             f"by 4, got shape {x.shape}")
        f = self.features
        h = ConvLayer(f, 9)(x)
        h = ConvLayer(2 * f, 3, strides=2)(h)
        h = ConvLayer(4 * f, 3, strides=2)(h)
        for _ in range(self.residual_blocks):
            h = ResidualBlock(4 * f)(h)
        for width in (2 * f, f):
            b, hh, ww, c = h.shape
            h = jax.image.resize(h, (b, 2 * hh, 2 * ww, c), "nearest")
            h = ConvLayer(width, 3)(h)
        return jnp.tanh(ConvLayer(3, 9, norm_relu=False)(h))
