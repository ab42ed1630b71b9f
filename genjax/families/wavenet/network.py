"""The WaveNet network: causal dilated convolutions, gated units, residual and skip paths.

Every convolution has kernel size 2, so a layer of dilation ``d`` is ``W_now h[t] +
W_past h[t - d] + b`` (``h[t - d] = 0`` before the start). The input layer sees the tokens
``x[t]`` and ``x[t - 1]`` through two embedding tables (a kernel-2 causal convolution of their
one-hot codes); each residual layer computes ``z = conv_d(h) + c`` (``c``: the label's
embedding, global conditioning), ``g = tanh(z_f) * sigmoid(z_g)``, adds ``W_res g`` to ``h``
and ``W_skip g`` to the skip sum; the head is ``relu -> dense -> relu -> dense`` to the
``levels`` logits. Output ``t`` therefore depends on ``x[t - k]`` for ``k`` in
``[0, receptive_field)`` only: it predicts ``x[t + 1]``.

:meth:`WaveNet.__call__` runs all positions at once (teacher forcing);
:meth:`WaveNet.decode` is one step of the fast-WaveNet algorithm (Paine et al. 2016): each
layer keeps a queue of its last ``d`` inputs, so a step costs one position per layer instead
of the whole receptive field.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array
Queues = tuple[Array, ...]


def shift(x: Array, d: int) -> Array:
    """``x[:, t - d]`` at position ``t`` (zeros before the start) for ``x`` ``(B, T, C)``."""
    if d >= x.shape[1]:
        return jnp.zeros_like(x)
    return jnp.concatenate([jnp.zeros_like(x[:, :d]), x[:, :-d]], axis=1)


def receptive_field(dilations: tuple[int, ...]) -> int:
    """Past and present input tokens an output sees: ``2 + sum(dilations)``."""
    return 2 + sum(dilations)


class WaveNet(nn.Module):
    """Logits of the next mu-law level at every position; see the module docstring.

    Attributes:
      dilations: one residual layer per entry (e.g. ``1, 2, ..., 512`` repeated).
      residual: channels of the residual path.
      skip: channels of the skip path and the head.
      levels: quantisation levels (256).
      num_classes: labels of global conditioning (0: unconditional).
      dtype: compute dtype.
    """

    dilations: tuple[int, ...] = (1, 2, 4, 8)
    residual: int = 32
    skip: int = 64
    levels: int = 256
    num_classes: int = 0
    dtype: Any = jnp.float32

    def setup(self):
        r, init = self.residual, nn.initializers.normal(1.0)
        self.embed_now = self.param("embed_now", init, (self.levels, r))
        self.embed_past = self.param("embed_past", init, (self.levels, r))
        self.conv_now = [nn.Dense(2 * r, dtype=self.dtype) for _ in self.dilations]
        self.conv_past = [nn.Dense(2 * r, use_bias=False, dtype=self.dtype)
                          for _ in self.dilations]
        self.res = [nn.Dense(r, dtype=self.dtype) for _ in self.dilations]
        self.skips = [nn.Dense(self.skip, dtype=self.dtype) for _ in self.dilations]
        if self.num_classes:
            self.cond = [nn.Embed(self.num_classes, 2 * r) for _ in self.dilations]
        self.head = nn.Dense(self.skip, dtype=self.dtype)
        self.logits = nn.Dense(self.levels, dtype=self.dtype)

    def _embed(self, table: Array, x: Array) -> Array:
        """Integer tokens, or float one-hot codes (``(..., levels)``: gradients w.r.t. the
        input), through an embedding table."""
        if jnp.issubdtype(x.dtype, jnp.integer):
            return jnp.take(table, x, axis=0).astype(self.dtype)
        return (x @ table).astype(self.dtype)

    def _conditioning(self, labels: Array | None, i: int) -> Array:
        if not self.num_classes:
            return jnp.zeros((), self.dtype)
        if labels is None:
            raise ValueError("this WaveNet is label-conditioned: give labels")
        return self.cond[i](labels).astype(self.dtype)

    def _layer(self, i: int, now: Array, past: Array, cond: Array) -> tuple[Array, Array]:
        z = self.conv_now[i](now) + self.conv_past[i](past) + cond
        g = jnp.tanh(z[..., :self.residual]) * jax.nn.sigmoid(z[..., self.residual:])
        return now + self.res[i](g), self.skips[i](g)

    def _head(self, skips: Array) -> Array:
        return self.logits(nn.relu(self.head(nn.relu(skips)))).astype(jnp.float32)

    def __call__(self, x: Array, labels: Array | None = None) -> Array:
        """Logits ``(B, T, levels)`` (float32) of ``x[t + 1]`` from tokens ``x`` ``(B, T)``
        (or one-hot codes ``(B, T, levels)``) and labels ``(B,)``."""
        h = self._embed(self.embed_now, x) + shift(self._embed(self.embed_past, x), 1)
        skips = 0.0
        for i, d in enumerate(self.dilations):
            cond = self._conditioning(labels, i)
            h, s = self._layer(i, h, shift(h, d), cond if cond.ndim == 0 else cond[:, None])
            skips = skips + s
        return self._head(skips)

    def init_queues(self, batch: int) -> Queues:
        """Empty queues: the previous token's past embedding ``(B, residual)``, then each
        layer's last ``d`` inputs ``(B, d, residual)`` (zeros: the time before the start)."""
        r = self.residual
        return (jnp.zeros((batch, r), self.dtype),
                *(jnp.zeros((batch, d, r), self.dtype) for d in self.dilations))

    def decode(self, token: Array, labels: Array | None, queues: Queues, t: Array
               ) -> tuple[Array, Queues]:
        """One fast-WaveNet step: logits ``(B, levels)`` of ``x[t + 1]`` given ``x[t]``
        (``token`` ``(B,)``) and the queues of the steps before; the queues after it.

        Layer ``i``'s queue slot ``t % d`` holds its input at ``t - d`` (written ``d`` steps
        ago) and gets its input at ``t``.
        """
        h = self._embed(self.embed_now, token) + queues[0]
        out = [self._embed(self.embed_past, token)]
        skips = 0.0
        for i, d in enumerate(self.dilations):
            queue, slot = queues[i + 1], t % d
            past = jax.lax.dynamic_index_in_dim(queue, slot, axis=1, keepdims=False)
            out.append(jax.lax.dynamic_update_index_in_dim(queue, h, slot, axis=1))
            h, s = self._layer(i, h, past, self._conditioning(labels, i))
            skips = skips + s
        return self._head(skips), tuple(out)


