"""Convolutional encoder and decoder for small images (28x28 or 32x32 MNIST), NHWC.

The autoencoder families (VAE, denoising AE, adversarial AE; the VQ-VAE may reuse the style)
share these two modules:

* :class:`Encoder`: ``x (B, S, S, C)`` -> [Conv k4 s2 p1 (halves) -> ReLU] per width in
  ``features`` -> flatten -> Dense(``hidden``) -> ReLU -> Dense(``out_features``).
  A VAE asks for ``2 * latent`` outputs (mean and log-variance), a deterministic
  autoencoder for ``latent``.
* :class:`Decoder`: ``z (B, latent)`` -> Dense(``hidden``) -> ReLU -> Dense(``S/2**n *
  S/2**n * features[0]``) -> ReLU -> reshape -> [ConvTranspose k4 s2 p1 (doubles) -> ReLU]
  per remaining width -> ConvTranspose k4 s2 p1 to ``channels``. The output is unbounded:
  Bernoulli logits or Gaussian means, as the objective decides.

With the defaults (``features=(32, 64)`` encoder, ``(64, 32)`` decoder, ``hidden=256``) a
28x28 image goes 28 -> 14 -> 7 and back; 32x32 goes 32 -> 16 -> 8. The image side must be
divisible by ``2**len(features)``. Layers are PyTorch's ``Conv2d(k=4, s=2, p=1)`` /
``ConvTranspose2d(k=4, s=2, p=1)`` (see :func:`genjax.nn.conv.torch_padding`), so the same
network is easy to write in PyTorch (``benchmarks/vae_reference.py``). No BatchNorm: the
modules are pure functions of their parameters (no ``model_state``).

:class:`MLPEncoder` / :class:`MLPDecoder` are the fully connected alternative (the classic
784-400-20 VAE of Kingma & Welling is ``MLPEncoder(40, (400,))`` / ``MLPDecoder(28, 1,
(400,))``): flatten -> [Dense -> ReLU] per hidden width -> Dense head, and the reverse.

:class:`LatentDiscriminator` is an MLP on latent codes (the adversarial autoencoder's critic).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.conv import Conv, ConvTranspose, torch_padding

Array = jax.Array

KERNEL = (4, 4)


def bottleneck_size(image_size: int, stages: int) -> int:
    """Side of the feature map after ``stages`` halvings of an ``image_size`` image.

    Args:
      image_size: side of the square images.
      stages: number of stride-2 convolutions.

    Returns:
      ``image_size // 2**stages``.

    Raises:
      ValueError: if ``image_size`` is not divisible by ``2**stages``.
    """
    if stages < 1 or image_size < 1 or image_size % 2**stages:
        raise ValueError(
            f"image side {image_size} must be divisible by 2**{stages} = {2**stages} for "
            f"{stages} stride-2 stages (28 and 32 work with 2 stages); change the features "
            "or pad the images with data.image_size")
    return image_size // 2**stages


class Encoder(nn.Module):
    """Images to vectors: strided convolutions, one hidden dense layer, a linear head.

    Attributes:
      out_features: output width (``2 * latent`` for a Gaussian posterior).
      features: conv widths, one stride-2 stage each.
      hidden: width of the dense layer before the head (0: none).
      dtype: computation dtype.
    """

    out_features: int
    features: tuple[int, ...] = (32, 64)
    hidden: int = 256
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Encodes images.

        Args:
          x: images ``(B, S, S, C)``, S divisible by ``2**len(features)``.

        Returns:
          ``(B, out_features)`` float32.
        """
        if x.ndim != 4:
            raise ValueError(f"Encoder expects images (batch, H, W, C); got shape {x.shape}")
        bottleneck_size(x.shape[1], len(self.features))
        h = x.astype(self.dtype)
        for f in self.features:
            h = nn.relu(Conv(f, KERNEL, (2, 2), 1, dtype=self.dtype)(h))
        h = h.reshape(h.shape[0], -1)
        if self.hidden:
            h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        return nn.Dense(self.out_features, dtype=self.dtype)(h).astype(jnp.float32)


class Decoder(nn.Module):
    """Latent vectors to per-pixel parameters (logits or means), the encoder's mirror.

    Attributes:
      image_size: output side, divisible by ``2**len(features)``.
      channels: output channels.
      features: transposed-conv input widths, widest first; each stage doubles the side.
      hidden: width of the first dense layer (0: none).
      dtype: computation dtype.
    """

    image_size: int = 28
    channels: int = 1
    features: tuple[int, ...] = (64, 32)
    hidden: int = 256
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, z: Array) -> Array:
        """Decodes latent vectors.

        Args:
          z: ``(..., latent)``; leading dimensions are flattened and restored.

        Returns:
          ``(..., image_size, image_size, channels)`` float32, unbounded.
        """
        side = bottleneck_size(self.image_size, len(self.features))
        lead = z.shape[:-1]
        h = z.reshape(-1, z.shape[-1]).astype(self.dtype)
        if self.hidden:
            h = nn.relu(nn.Dense(self.hidden, dtype=self.dtype)(h))
        h = nn.relu(nn.Dense(side * side * self.features[0], dtype=self.dtype)(h))
        h = h.reshape(h.shape[0], side, side, self.features[0])
        pad = torch_padding(KERNEL, 1)
        for f in self.features[1:]:
            h = nn.relu(ConvTranspose(f, KERNEL, (2, 2), pad, dtype=self.dtype)(h))
        h = ConvTranspose(self.channels, KERNEL, (2, 2), pad, dtype=self.dtype)(h)
        return h.astype(jnp.float32).reshape(lead + h.shape[1:])


class MLPEncoder(nn.Module):
    """Images to vectors through fully connected layers.

    Attributes:
      out_features: output width (``2 * latent`` for a Gaussian posterior).
      features: hidden widths, ReLU after each.
    """

    out_features: int
    features: tuple[int, ...] = (400,)

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """``(B, H, W, C)`` images -> ``(B, out_features)`` float32."""
        if x.ndim != 4:
            raise ValueError(f"MLPEncoder expects images (batch, H, W, C); got shape {x.shape}")
        h = x.reshape(x.shape[0], -1).astype(jnp.float32)
        for f in self.features:
            h = nn.relu(nn.Dense(f)(h))
        return nn.Dense(self.out_features)(h)


class MLPDecoder(nn.Module):
    """Latent vectors to per-pixel parameters through fully connected layers.

    Attributes:
      image_size: output side.
      channels: output channels.
      features: hidden widths, first layer first (ReLU after each).
    """

    image_size: int = 28
    channels: int = 1
    features: tuple[int, ...] = (400,)

    @nn.compact
    def __call__(self, z: Array) -> Array:
        """``(..., latent)`` -> ``(..., image_size, image_size, channels)`` float32, unbounded."""
        h = z.astype(jnp.float32)
        for f in self.features:
            h = nn.relu(nn.Dense(f)(h))
        h = nn.Dense(self.image_size * self.image_size * self.channels)(h)
        return h.reshape(z.shape[:-1] + (self.image_size, self.image_size, self.channels))


class LatentDiscriminator(nn.Module):
    """An MLP critic on latent codes: ``(B, latent)`` -> logits ``(B,)``.

    Attributes:
      features: hidden widths (LeakyReLU 0.2 after each).
    """

    features: tuple[int, ...] = (256, 256)

    @nn.compact
    def __call__(self, z: Array) -> Array:
        """Logits that ``z`` came from the prior (real) rather than the encoder (fake)."""
        h = z
        for f in self.features:
            h = nn.leaky_relu(nn.Dense(f)(h), 0.2)
        return nn.Dense(1)(h)[:, 0]
