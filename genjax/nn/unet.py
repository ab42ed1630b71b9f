"""The DDPM UNet (Ho et al., 2020; the PyTorch layout of improved-diffusion), NHWC.

``UNet(x, t, label=None, train=False)`` maps noisy images ``(B, H, W, C)`` and integer
timesteps ``(B,)`` to an output of the same spatial shape (``out_channels`` channels: the
predicted noise, x0 or v).

* Time: sinusoidal embedding of width ``ch`` -> Dense(4 ch) -> SiLU -> Dense(4 ch).
* Class conditioning (``num_classes`` set): ``nn.Embed(num_classes + 1, 4 ch)`` added to the
  time embedding; row ``num_classes`` is the *null* label used for unconditional
  predictions (classifier-free guidance) and when ``label`` is None.
* Down path: per level ``i`` (resolution ``H / 2**i``), ``num_res_blocks`` residual blocks of
  width ``ch * ch_mult[i]`` (each followed by self-attention when the resolution is in
  ``attn_resolutions``), then a stride-2 3x3 convolution except at the last level.
* Middle: residual block, attention, residual block.
* Up path: per level, ``num_res_blocks + 1`` residual blocks on the concatenation with the
  matching skip activation (attention as above), then nearest-neighbour 2x upsampling and a
  3x3 convolution except at the first level.
* Output: GroupNorm -> SiLU -> 3x3 convolution (zero-initialised).

Residual block: GroupNorm -> SiLU -> conv3x3 -> + Dense(SiLU(temb)) -> GroupNorm -> SiLU ->
dropout -> conv3x3 (zero-initialised), plus a 1x1 convolution on the shortcut when the width
changes. Attention: single-head self-attention over the ``H*W`` positions with a
zero-initialised output projection. GroupNorm uses ``min(norm_groups, channels)`` groups,
epsilon 1e-6, and float32 statistics whatever ``dtype`` is; softmax runs in float32. A
residual block refuses one channel per group: that GroupNorm would remove the per-channel
time/label shift entirely.

With ``ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, attn_resolutions=(16,)`` on 32x32x3
this is the DDPM CIFAR-10 network (35.7M parameters).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.embeddings import timestep_embedding

Array = jax.Array

_default_init = nn.initializers.variance_scaling(1.0, "fan_avg", "uniform")
_GN_EPS = 1e-6


def _group_norm(x: Array, groups: int, dtype: Any, param_dtype: Any, name: str | None = None):
    c = x.shape[-1]
    g = min(groups, c)
    if c % g:
        raise ValueError(f"GroupNorm: {c} channels are not divisible into {g} groups; choose "
                         f"a width (ch * ch_mult) that is a multiple of norm_groups={groups}")
    y = nn.GroupNorm(num_groups=g, epsilon=_GN_EPS, dtype=jnp.float32, param_dtype=param_dtype,
                     name=name)(x.astype(jnp.float32))
    return y.astype(dtype)


class ResBlock(nn.Module):
    """Residual block with a time-embedding shift (see the module docstring).

    Attributes:
      features: output channels.
      dropout: dropout rate before the second convolution.
      norm_groups: GroupNorm groups (at most the channel count).
      dtype: computation dtype.
      param_dtype: parameter dtype.
    """

    features: int
    dropout: float = 0.0
    norm_groups: int = 32
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Array, temb: Array, train: bool) -> Array:
        if self.features > 1 and self.features == min(self.norm_groups, self.features):
            raise ValueError(
                f"ResBlock: {self.features} channels in {min(self.norm_groups, self.features)} "
                "GroupNorm groups is one channel per group, which normalises away the time "
                "and label embedding added just before it; use norm_groups <= channels / 2 "
                f"(e.g. norm_groups={max(1, self.features // 2)})")
        conv = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        h = nn.silu(_group_norm(x, self.norm_groups, self.dtype, self.param_dtype))
        h = nn.Conv(self.features, (3, 3), padding=1, kernel_init=_default_init, **conv)(h)
        shift = nn.Dense(self.features, kernel_init=_default_init, **conv)(nn.silu(temb))
        h = h + shift[:, None, None, :]
        h = nn.silu(_group_norm(h, self.norm_groups, self.dtype, self.param_dtype))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        h = nn.Conv(self.features, (3, 3), padding=1, kernel_init=nn.initializers.zeros, **conv)(h)
        if x.shape[-1] != self.features:
            x = nn.Conv(self.features, (1, 1), kernel_init=_default_init, **conv)(x)
        return x.astype(self.dtype) + h


class AttentionBlock(nn.Module):
    """Single-head self-attention over spatial positions, residual.

    Attributes:
      norm_groups: GroupNorm groups.
      dtype: computation dtype (softmax in float32).
      param_dtype: parameter dtype.
    """

    norm_groups: int = 32
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Array) -> Array:
        b, hgt, wid, c = x.shape
        dense = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        h = _group_norm(x, self.norm_groups, self.dtype, self.param_dtype)
        qkv = nn.Dense(3 * c, kernel_init=_default_init, **dense)(h).reshape(b, hgt * wid, 3, c)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        logits = jnp.einsum("bqc,bkc->bqk", q, k).astype(jnp.float32) * (c ** -0.5)
        weights = jax.nn.softmax(logits, axis=-1).astype(self.dtype)
        h = jnp.einsum("bqk,bkc->bqc", weights, v).reshape(b, hgt, wid, c)
        h = nn.Dense(c, kernel_init=nn.initializers.zeros, **dense)(h)
        return x.astype(self.dtype) + h


class UNet(nn.Module):
    """The DDPM UNet (see the module docstring).

    Attributes:
      ch: base width.
      ch_mult: width multiplier per resolution level; ``len(ch_mult) - 1`` downsamplings.
      num_res_blocks: residual blocks per level on the way down (one more on the way up).
      attn_resolutions: spatial sizes (e.g. ``(16,)``) at which self-attention follows each
        residual block.
      dropout: dropout rate in the residual blocks (active with ``train=True``; needs a
        ``"dropout"`` rng).
      out_channels: output channels; None: as many as the input.
      num_classes: number of classes for class conditioning, or None (unconditional).
      norm_groups: GroupNorm groups (DDPM: 32).
      dtype: computation dtype (``jnp.bfloat16`` for mixed precision); the output is float32.
      param_dtype: parameter dtype.
    """

    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 2, 2, 2)
    num_res_blocks: int = 2
    attn_resolutions: tuple[int, ...] = (16,)
    dropout: float = 0.1
    out_channels: int | None = None
    num_classes: int | None = None
    norm_groups: int = 32
    dtype: Any = jnp.float32
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Array, t: Array, label: Array | None = None,
                 train: bool = False) -> Array:
        """Predicts the denoising target.

        Args:
          x: noisy images ``(B, H, W, C)``, H and W divisible by ``2**(len(ch_mult) - 1)``.
          t: integer timesteps ``(B,)``.
          label: class labels ``(B,)`` in ``[0, num_classes]`` (``num_classes`` is the null
            label), or None (all null). Only for a class-conditional UNet.
          train: enables dropout.

        Returns:
          float32 ``(B, H, W, out_channels)``.
        """
        self._check(x, t, label)
        mods = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        block = dict(dropout=self.dropout, norm_groups=self.norm_groups, **mods)
        attn = dict(norm_groups=self.norm_groups, **mods)
        temb = timestep_embedding(t, self.ch)
        temb = nn.Dense(4 * self.ch, kernel_init=_default_init, **mods)(temb.astype(self.dtype))
        temb = nn.Dense(4 * self.ch, kernel_init=_default_init, **mods)(nn.silu(temb))
        if self.num_classes is not None:
            if label is None:
                label = jnp.full((x.shape[0],), self.num_classes, jnp.int32)
            temb = temb + nn.Embed(self.num_classes + 1, 4 * self.ch, **mods)(label)

        res = x.shape[1]
        h = nn.Conv(self.ch, (3, 3), padding=1, kernel_init=_default_init, **mods)(
            x.astype(self.dtype))
        skips = [h]
        last = len(self.ch_mult) - 1
        for level, mult in enumerate(self.ch_mult):
            for _ in range(self.num_res_blocks):
                h = ResBlock(self.ch * mult, **block)(h, temb, train)
                if res in self.attn_resolutions:
                    h = AttentionBlock(**attn)(h)
                skips.append(h)
            if level != last:
                h = nn.Conv(h.shape[-1], (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)),
                            kernel_init=_default_init, **mods)(h)
                res //= 2
                skips.append(h)

        h = ResBlock(h.shape[-1], **block)(h, temb, train)
        h = AttentionBlock(**attn)(h)
        h = ResBlock(h.shape[-1], **block)(h, temb, train)

        for level, mult in reversed(list(enumerate(self.ch_mult))):
            for _ in range(self.num_res_blocks + 1):
                h = jnp.concatenate([h, skips.pop()], axis=-1)
                h = ResBlock(self.ch * mult, **block)(h, temb, train)
                if res in self.attn_resolutions:
                    h = AttentionBlock(**attn)(h)
            if level != 0:
                h = jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)
                h = nn.Conv(h.shape[-1], (3, 3), padding=1, kernel_init=_default_init, **mods)(h)
                res *= 2

        h = nn.silu(_group_norm(h, self.norm_groups, self.dtype, self.param_dtype))
        out = nn.Conv(self.out_channels or x.shape[-1], (3, 3), padding=1,
                      kernel_init=nn.initializers.zeros, **mods)(h)
        return out.astype(jnp.float32)

    def _check(self, x: Array, t: Array, label: Array | None) -> None:
        factor = 2 ** (len(self.ch_mult) - 1)
        if x.ndim != 4 or x.shape[1] % factor or x.shape[2] % factor:
            raise ValueError(
                f"UNet expects images (batch, H, W, C) with H and W divisible by {factor} "
                f"(2**(len(ch_mult) - 1) for ch_mult={self.ch_mult}); got {x.shape}. Pad the "
                "images (config data.image_size) or use fewer levels in ch_mult.")
        if t.shape != (x.shape[0],):
            raise ValueError(f"UNet expects timesteps of shape ({x.shape[0]},), got {t.shape}")
        if label is not None and self.num_classes is None:
            raise ValueError("this UNet is unconditional (num_classes=None) but got labels")
