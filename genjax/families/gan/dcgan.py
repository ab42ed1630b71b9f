"""The DCGAN generator and discriminator (Radford et al., 2016), NHWC.

Both networks follow the PyTorch DCGAN layout with kernel 4 everywhere:

* :class:`Generator`: ``z (B, latent)`` -> ``(B, 1, 1, latent)`` ->
  ConvTranspose k4 s1 p0 (1x1 -> 4x4) -> BN -> ReLU -> [ConvTranspose k4 s2
  p1 (doubles) -> BN -> ReLU] * (stages - 1) -> ConvTranspose k4 s2 p1 to
  ``channels`` -> tanh. Output ``(B, S, S, channels)`` in ``[-1, 1]``.
* :class:`Discriminator`: ``x (B, S, S, C)`` -> [Conv k4 s2 p1 (halves) -> BN
  -> LeakyReLU(0.2)] * stages -> Conv k4 s1 valid (4x4 -> 1x1) -> logits
  ``(B,)``. BatchNorm sits on every block, the first one included.

``S = 4 * 2**stages``; the default features (generator ``(256, 128, 64)``,
discriminator ``(64, 128, 256)``) give ``S = 32``. With ``features=None`` the
DCGAN rule ``64 * 2**i`` derives them from ``image_size`` (64 -> four stages).

Convolutions followed by BatchNorm have no bias (BN's offset replaces it); the
last layer of each network has one. Both networks use :mod:`genjax.nn.conv`'s
``ConvTranspose`` / ``Conv`` (same parameters and values as flax's, fast
gradients on XLA-CPU); compile CPU training steps with
``jax.jit(step, compiler_options=genjax.nn.xla_cpu_compiler_options())``.
Initialization as in the paper: conv weights N(0, 0.02), BN scale N(1, 0.02),
biases 0.

GAN-recipe options (defaults give the article's DCGAN):

* ``Generator(num_classes=K)``: a conditional generator; ``labels (B,)`` are embedded
  (``label_dim`` wide) and concatenated to ``z``.
* ``Discriminator(num_classes=K)``: a projection discriminator (Miyato & Koyama, 2018):
  ``logit = psi(phi(x)) + <embed(y), phi(x)>`` with ``phi(x)`` the flattened 4x4 features
  and ``psi`` the final 4x4 convolution.
* ``Discriminator(norm="layer" | "none")``: no BatchNorm (WGAN-GP's critic must not couple
  samples; the hinge + spectral-norm recipe uses none).
* ``Discriminator(spectral_norm=True)``: every convolution wrapped in flax's
  ``nn.SpectralNorm``; its power-iteration vectors live in ``batch_stats`` (model_state).

BatchNorm (caller's contract):

* ``train=True`` normalizes with batch statistics and updates the running
  averages in the ``"batch_stats"`` collection, so apply with
  ``mutable=["batch_stats"]`` and carry the returned statistics forward:
  ``y, updates = model.apply(variables, x, train=True,
  mutable=["batch_stats"])``.
* ``train=False`` uses the running averages and mutates nothing.
* ``momentum=0.9`` is flax's decay of the running average
  (``ra = 0.9 ra + 0.1 batch``), i.e. PyTorch's ``momentum=0.1``;
  ``epsilon=1e-5`` as PyTorch. Flax's running variance is the biased batch
  variance (PyTorch stores the unbiased one); only eval mode sees the
  difference, by a factor ``n / (n - 1)``.
* Statistics are always computed and stored in float32, whatever ``dtype``.
* Under ``jax.pmap`` over the data axis the batch statistics are averaged across the
  devices (``axis_name=genjax.core.collectives.data_axis()``, read at call time); under
  ``jit``, with or without a sharded batch, they are those of the batch as given.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.core.collectives import data_axis
from genjax.nn.conv import Conv, ConvTranspose, torch_padding
from genjax.nn.init import dcgan_conv_init, dcgan_scale_init

Array = jax.Array

KERNEL = (4, 4)
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5
LEAKY_SLOPE = 0.2


def num_stages(image_size: int) -> int:
    """Number of resolution-doubling stages of a DCGAN for ``image_size``.

    Args:
      image_size: side of the square images; must be ``4 * 2**k`` with k >= 1.

    Returns:
      ``k = log2(image_size) - 2``.

    Raises:
      ValueError: if ``image_size`` is not 8, 16, 32, 64, ...
    """
    k = math.log2(image_size) - 2 if image_size > 0 else -1.0
    if k < 1 or not float(k).is_integer():
        raise ValueError(
            f"DCGAN image_size must be 4 * 2**k with k >= 1 (8, 16, 32, 64, ...); "
            f"got {image_size}. Pad or resize the images (e.g. 28x28 MNIST -> 32x32)."
        )
    return int(k)


def default_features(image_size: int, base: int = 64) -> tuple[int, ...]:
    """DCGAN feature widths, widest first: ``(base * 2**(k-1), ..., base)``.

    Args:
      image_size: side of the square images (see :func:`num_stages`).
      base: width of the stage at the highest resolution.

    Returns:
      The generator's features; reverse it for the discriminator.
    """
    k = num_stages(image_size)
    return tuple(base * 2**i for i in reversed(range(k)))


def _check_features(features: tuple[int, ...], image_size: int, who: str) -> tuple[int, ...]:
    k = num_stages(image_size)
    if len(features) != k:
        raise ValueError(
            f"{who}: image_size={image_size} needs {k} feature stages "
            f"(4 * 2**{k} = {image_size}); got features={features}. Pass {k} widths "
            f"or features=None for the DCGAN default."
        )
    return tuple(features)


def _batch_norm(train: bool, dtype: Any, param_dtype: Any) -> nn.BatchNorm:
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=BN_MOMENTUM,
        epsilon=BN_EPSILON,
        dtype=dtype,
        param_dtype=param_dtype,
        scale_init=dcgan_scale_init(),
        bias_init=nn.initializers.zeros_init(),
        axis_name=data_axis(),
    )


def _condition_latents(z: Array, labels: Array | None, num_classes: int,
                       label_dim: int) -> Array:
    """``z`` with the labels' embedding concatenated (conditional), else ``z`` unchanged."""
    if not num_classes:
        if labels is not None:
            raise ValueError("labels given to an unconditional Generator; set num_classes")
        return z
    if labels is None:
        raise ValueError("a conditional Generator (num_classes > 0) needs labels")
    embed = nn.Embed(num_classes, label_dim, name="label_embedding")(labels)
    return jnp.concatenate([z, embed.astype(z.dtype)], axis=1)


class Generator(nn.Module):
    """DCGAN generator: latent vectors to images in ``[-1, 1]`` (NHWC).

    Attributes:
      features: widths of the hidden stages, widest first; None derives them
        from ``image_size`` (``(256, 128, 64)`` at 32).
      channels: output image channels.
      image_size: output side, ``4 * 2**len(features)``.
      dtype: computation dtype (e.g. ``jnp.bfloat16``); BN stats stay float32.
      param_dtype: parameter dtype.
      num_classes: > 0 makes the generator conditional on ``labels``.
      label_dim: width of the label embedding concatenated to ``z``.
    """

    features: tuple[int, ...] | None = None
    channels: int = 1
    image_size: int = 32
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    num_classes: int = 0
    label_dim: int = 32

    @nn.compact
    def __call__(self, z: Array, train: bool, labels: Array | None = None) -> Array:
        """Generates images.

        Args:
          z: latent codes ``(B, latent_dim)``.
          train: BatchNorm mode (see the module docstring).
          labels: int class labels ``(B,)``, required iff ``num_classes > 0``.

        Returns:
          Images ``(B, image_size, image_size, channels)`` in ``[-1, 1]``, in ``dtype``.
        """
        if self.features is None:
            features = default_features(self.image_size)
        else:
            features = _check_features(self.features, self.image_size, "Generator")
        if z.ndim != 2:
            raise ValueError(f"Generator expects z of shape (batch, latent_dim); got {z.shape}")
        z = _condition_latents(z, labels, self.num_classes, self.label_dim)
        x = z.reshape(z.shape[0], 1, 1, z.shape[1]).astype(self.dtype)
        conv = dict(dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=dcgan_conv_init())
        # 1x1 -> 4x4: PyTorch ConvTranspose2d(k=4, s=1, p=0).
        x = ConvTranspose(features[0], KERNEL, (1, 1), torch_padding(KERNEL, 0),
                          use_bias=False, **conv)(x)
        x = nn.relu(_batch_norm(train, self.dtype, self.param_dtype)(x))
        for f in features[1:]:
            # Doubles the resolution: ConvTranspose2d(k=4, s=2, p=1).
            x = ConvTranspose(f, KERNEL, (2, 2), torch_padding(KERNEL, 1), use_bias=False,
                              **conv)(x)
            x = nn.relu(_batch_norm(train, self.dtype, self.param_dtype)(x))
        x = ConvTranspose(self.channels, KERNEL, (2, 2), torch_padding(KERNEL, 1),
                          use_bias=True, **conv)(x)
        return jnp.tanh(x)


class Discriminator(nn.Module):
    """DCGAN discriminator: images ``(B, S, S, C)`` to real/fake logits ``(B,)``.

    Attributes:
      features: widths of the downsampling stages, narrowest first; None
        derives them from ``image_size`` (``(64, 128, 256)`` at 32).
      image_size: expected input side ``S = 4 * 2**len(features)``.
      channels: expected input channels, or None to accept any.
      dtype: computation dtype; logits are returned in float32.
      param_dtype: parameter dtype.
      norm: ``"batch"`` (DCGAN), ``"layer"`` (per-sample, over H, W, C) or ``"none"``.
      spectral_norm: spectrally normalise every convolution (``u`` in ``batch_stats``).
      num_classes: > 0 makes this a projection discriminator on ``labels``.
    """

    features: tuple[int, ...] | None = None
    image_size: int = 32
    channels: int | None = None
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32
    norm: str = "batch"
    spectral_norm: bool = False
    num_classes: int = 0

    @nn.compact
    def __call__(self, x: Array, train: bool, labels: Array | None = None) -> Array:
        """Scores images.

        Args:
          x: images ``(B, image_size, image_size, C)``, scaled to ``[-1, 1]``.
          train: BatchNorm mode and spectral-norm updates (see the module docstring).
          labels: int class labels ``(B,)``, required iff ``num_classes > 0``.

        Returns:
          float32 logits ``(B,)`` (positive: "real").
        """
        if self.features is None:
            features = tuple(reversed(default_features(self.image_size)))
        else:
            features = _check_features(self.features, self.image_size, "Discriminator")
        self._check_input(x)
        if self.norm not in ("batch", "layer", "none"):
            raise ValueError(f"Discriminator norm must be 'batch', 'layer' or 'none'; "
                             f"got {self.norm!r}")
        conv = dict(dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=dcgan_conv_init())

        def apply_conv(layer: nn.Module, h: Array) -> Array:
            if self.spectral_norm:
                return nn.SpectralNorm(layer)(h, update_stats=train)
            return layer(h)

        h = x.astype(self.dtype)
        for f in features:
            # Halves the resolution: Conv2d(k=4, s=2, p=1).
            h = apply_conv(Conv(f, KERNEL, (2, 2), padding=((1, 1), (1, 1)),
                                use_bias=self.norm == "none", **conv), h)
            if self.norm == "batch":
                h = _batch_norm(train, self.dtype, self.param_dtype)(h)
            elif self.norm == "layer":
                h = nn.LayerNorm(reduction_axes=(1, 2, 3), dtype=self.dtype,
                                 param_dtype=self.param_dtype)(h)
            h = nn.leaky_relu(h, LEAKY_SLOPE)
        out = apply_conv(Conv(1, KERNEL, (1, 1), padding="VALID", use_bias=True, **conv), h)
        logits = out.reshape(out.shape[0]).astype(jnp.float32)
        if self.num_classes:
            if labels is None:
                raise ValueError("a projection discriminator (num_classes > 0) needs labels")
            phi = h.reshape(h.shape[0], -1).astype(jnp.float32)
            embed = nn.Embed(self.num_classes, phi.shape[1], name="projection")(labels)
            logits = logits + jnp.sum(embed * phi, axis=1)
        return logits

    def _check_input(self, x: Array) -> None:
        s = self.image_size
        c = "C" if self.channels is None else str(self.channels)
        expected = f"(batch, {s}, {s}, {c})"
        ok = x.ndim == 4 and x.shape[1:3] == (s, s)
        ok = ok and (self.channels is None or x.shape[3] == self.channels)
        if ok:
            return
        hint = ""
        if x.ndim == 4 and x.shape[1:3] == (28, 28) and s == 32:
            hint = (
                " 28x28 MNIST must be padded to 32x32, e.g. "
                "jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0) "
                "for images scaled to [-1, 1]."
            )
        elif x.ndim == 4 and x.shape[2:] == (s, s) and x.shape[1] != s:
            hint = " The input looks NCHW: transpose to NHWC with x.transpose(0, 2, 3, 1)."
        elif x.ndim == 4 and x.shape[1:3] == (s, s):
            hint = f" Wrong channel count: set channels={x.shape[3]} or convert the images."
        elif x.ndim == 4 and x.shape[1] != x.shape[2]:
            hint = " Images must be square (NHWC)."
        elif x.ndim == 4:
            hint = f" Resize or pad the images to {s}x{s}, or set image_size."
        raise ValueError(f"Discriminator expects images of shape {expected}; got {x.shape}.{hint}")
