"""DiffWave's denoiser (Kong et al. 2021): a non-causal residual stack of dilated 1-D
convolutions over raw waveforms, for the diffusion families on audio.

``DiffWaveNet(x, t, label=None, train=False)``: noisy waveforms ``x (B, T)`` and diffusion
steps ``(B,)`` to an output ``(B, T)`` (the noise, or whatever the objective predicts).

Layers, as in the paper's unconditional / class-conditional SC09 models:

* input: 1x1 convolution to ``residual_channels``, ReLU;
* the diffusion step: a sinusoidal embedding (``time_dim``) -> Dense ``time_features``, SiLU
  -> Dense ``time_features``, SiLU, shared by every layer;
* ``num_layers`` residual layers, layer ``i`` with dilation ``2 ** (i % dilation_cycle)``:
  ``y = h + Dense(step)``; ``y = DilatedConv3(y) (+ Dense(label embedding))`` to
  ``2 C`` channels; ``y = sigmoid(y[:C]) * tanh(y[C:])`` (gate, filter); a 1x1 convolution
  to ``2 C`` splits into the residual (``h = (h + residual) / sqrt 2``) and the skip;
* output: the skips summed and divided by ``sqrt(num_layers)`` -> 1x1 conv, ReLU -> 1x1
  conv to one channel, zero-initialised (the first prediction is 0).

The convolutions are "same"-padded (``dilation`` zeros each side), so the receptive field is
``(kernel - 1) * sum(dilations) + 1`` samples, centred; class conditioning embeds
``num_classes + 1`` labels, the last one the null label of classifier-free guidance (used
when no label is given).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.embeddings import timestep_embedding

Array = jax.Array


class DiffWaveNet(nn.Module):
    """The DiffWave denoiser (see the module docstring).

    Attributes:
      residual_channels: C, the width of the residual stream.
      num_layers: residual layers.
      dilation_cycle: dilations restart at 1 every this many layers.
      time_dim: width of the sinusoidal step embedding.
      time_features: width of the step embedding's MLP.
      num_classes: classes for conditioning (row ``num_classes``: the null label), or None.
      dtype: computation dtype; the output is float32.
    """

    residual_channels: int = 64
    num_layers: int = 30
    dilation_cycle: int = 10
    time_dim: int = 128
    time_features: int = 512
    num_classes: int | None = None
    dtype: Any = jnp.float32

    def receptive_field(self) -> int:
        """Samples each output sees: ``2 * sum(dilations) + 1`` (kernel 3)."""
        return 2 * sum(2 ** (i % self.dilation_cycle) for i in range(self.num_layers)) + 1

    @nn.compact
    def __call__(self, x: Array, t: Array, label: Array | None = None,
                 train: bool = False) -> Array:
        """Predicts the denoising target.

        Args:
          x: noisy waveforms ``(B, T)``.
          t: diffusion steps ``(B,)`` (integer or real).
          label: class labels ``(B,)`` or None (the null label, with ``num_classes``).
          train: unused (no dropout); kept for the denoiser interface.

        Returns:
          float32 ``(B, T)``.
        """
        del train
        if x.ndim != 2:
            raise ValueError(f"DiffWaveNet expects waveforms (batch, samples), got {x.shape}")
        if self.num_layers < 1 or self.dilation_cycle < 1:
            raise ValueError(f"num_layers and dilation_cycle must be >= 1, got "
                             f"{self.num_layers} and {self.dilation_cycle}")
        c, mods = self.residual_channels, dict(dtype=self.dtype)
        h = nn.relu(nn.Conv(c, (1,), name="input", **mods)(x[..., None].astype(self.dtype)))
        step = timestep_embedding(t, self.time_dim).astype(self.dtype)
        step = nn.silu(nn.Dense(self.time_features, name="step_1", **mods)(step))
        step = nn.silu(nn.Dense(self.time_features, name="step_2", **mods)(step))
        cond = None
        if self.num_classes is not None:
            if label is None:
                label = jnp.full((x.shape[0],), self.num_classes, jnp.int32)
            cond = nn.Embed(self.num_classes + 1, self.time_features, name="label",
                            **mods)(label)
        elif label is not None:
            raise ValueError("this DiffWaveNet is unconditional (num_classes=None) but got "
                             "labels")
        skips = jnp.zeros_like(h)
        for i in range(self.num_layers):
            dilation = 2 ** (i % self.dilation_cycle)
            y = h + nn.Dense(c, name=f"step_proj_{i}", **mods)(step)[:, None, :]
            y = nn.Conv(2 * c, (3,), kernel_dilation=(dilation,), padding=[(dilation, dilation)],
                        name=f"dilated_{i}", **mods)(y)
            if cond is not None:
                y = y + nn.Dense(2 * c, name=f"label_proj_{i}", **mods)(cond)[:, None, :]
            y = jax.nn.sigmoid(y[..., :c]) * jnp.tanh(y[..., c:])
            y = nn.Conv(2 * c, (1,), name=f"out_proj_{i}", **mods)(y)
            h = (h + y[..., :c]) / math.sqrt(2.0)
            skips = skips + y[..., c:]
        out = skips / math.sqrt(self.num_layers)
        out = nn.relu(nn.Conv(c, (1,), name="skip", **mods)(out))
        out = nn.Conv(1, (1,), kernel_init=nn.initializers.zeros, name="output", **mods)(out)
        return out[..., 0].astype(jnp.float32)
