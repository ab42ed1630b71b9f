"""A decoder-only Transformer (GPT-2 style) with a key/value-cache decode path.

Pre-LayerNorm blocks ``x + attn(ln(x))``, ``x + mlp(ln(x))``; causal multi-head
self-attention through ``jax.nn.dot_product_attention``; learned absolute positions; the
output projection tied to the token embedding (``Embed.attend``); dropout on the embeddings
and on each residual branch. Initialisation as GPT-2 / nanoGPT: normal(0.02) weights, zero
biases, the residual output projections scaled by ``1 / sqrt(2 num_layers)``.

Two ways to run the same parameters:

* ``model(tokens, train)``: logits for every position of ``(B, T)`` tokens (training);
* ``model.apply(..., token, position, cache, method="decode")``: one token per sequence at
  ``position``, attending to the keys and values of earlier positions held in ``cache``
  (``init_cache``), returning its logits and the updated cache (generation inside one
  ``lax.scan``).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array
#: Per layer ``(keys, values)``, each ``(B, max_len, heads, head_dim)``.
Cache = tuple[tuple[Array, Array], ...]

_INIT = nn.initializers.normal(0.02)


class Block(nn.Module):
    """One pre-LayerNorm Transformer block.

    Attributes:
      features: model width.
      num_heads: attention heads (dividing ``features``).
      mlp_ratio: MLP hidden width / ``features``.
      dropout: dropout rate of the residual branches.
      num_layers: the model's depth (scales the residual projections' init).
      dtype: activation dtype.
    """

    features: int
    num_heads: int
    mlp_ratio: int = 4
    dropout: float = 0.0
    num_layers: int = 1
    dtype: Any = jnp.float32

    def setup(self):
        out_init = nn.initializers.normal(0.02 / math.sqrt(2 * self.num_layers))
        dense = dict(dtype=self.dtype, bias_init=nn.initializers.zeros)
        self.ln1 = nn.LayerNorm(dtype=self.dtype)
        self.qkv = nn.Dense(3 * self.features, kernel_init=_INIT, **dense)
        self.proj = nn.Dense(self.features, kernel_init=out_init, **dense)
        self.ln2 = nn.LayerNorm(dtype=self.dtype)
        self.fc = nn.Dense(self.mlp_ratio * self.features, kernel_init=_INIT, **dense)
        self.fc_out = nn.Dense(self.features, kernel_init=out_init, **dense)
        self.drop = nn.Dropout(self.dropout)

    def _heads(self, x: Array) -> tuple[Array, Array, Array]:
        b, t, _ = x.shape
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, self.num_heads, -1)
        return qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]

    def _finish(self, x: Array, attended: Array, train: bool) -> Array:
        b, t = attended.shape[:2]
        x = x + self.drop(self.proj(attended.reshape(b, t, self.features)),
                          deterministic=not train)
        h = self.fc_out(nn.gelu(self.fc(self.ln2(x)), approximate=True))
        return x + self.drop(h, deterministic=not train)

    def __call__(self, x: Array, train: bool = False) -> Array:
        q, k, v = self._heads(x)
        return self._finish(x, jax.nn.dot_product_attention(q, k, v, is_causal=True), train)

    def decode(self, x: Array, position: Array, cache: tuple[Array, Array]
               ) -> tuple[Array, tuple[Array, Array]]:
        """``x (B, 1, features)`` at ``position``; ``cache`` holds earlier keys and values."""
        q, k, v = self._heads(x)
        keys = jax.lax.dynamic_update_slice_in_dim(cache[0], k.astype(cache[0].dtype),
                                                   position, axis=1)
        values = jax.lax.dynamic_update_slice_in_dim(cache[1], v.astype(cache[1].dtype),
                                                     position, axis=1)
        visible = (jnp.arange(keys.shape[1]) <= position)[None, None, None, :]
        attended = jax.nn.dot_product_attention(q, keys.astype(q.dtype), values.astype(q.dtype),
                                                mask=visible)
        return self._finish(x, attended, False), (keys, values)


class Transformer(nn.Module):
    """A decoder-only Transformer language model over ``vocab_size`` tokens.

    Attributes:
      vocab_size: number of token ids.
      max_len: the longest sequence (learned positions).
      features: model width.
      num_layers: blocks.
      num_heads: attention heads.
      mlp_ratio: MLP hidden width / ``features``.
      dropout: dropout rate (embeddings and residual branches).
      dtype: activation dtype (parameters stay float32; logits are float32).
    """

    vocab_size: int
    max_len: int
    features: int = 128
    num_layers: int = 4
    num_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    dtype: Any = jnp.float32

    def setup(self):
        if self.features % self.num_heads:
            raise ValueError(f"features {self.features} must be divisible by num_heads "
                             f"{self.num_heads}")
        self.embed = nn.Embed(self.vocab_size, self.features, embedding_init=_INIT)
        self.position = nn.Embed(self.max_len, self.features, embedding_init=_INIT)
        self.drop = nn.Dropout(self.dropout)
        self.blocks = [Block(self.features, self.num_heads, self.mlp_ratio, self.dropout,
                             self.num_layers, self.dtype, name=f"block_{i}")
                       for i in range(self.num_layers)]
        self.ln_f = nn.LayerNorm(dtype=self.dtype)

    def _logits(self, h: Array) -> Array:
        h = self.ln_f(h)
        return self.embed.attend(h.astype(jnp.float32)).astype(jnp.float32)

    def __call__(self, tokens: Array, train: bool = False) -> Array:
        """Logits ``(B, T, vocab_size)`` of the next token at every position of ``tokens``."""
        t = tokens.shape[1]
        if t > self.max_len:
            raise ValueError(f"{t} tokens exceed the model's max_len {self.max_len}")
        h = self.embed(tokens) + self.position(jnp.arange(t))[None]
        h = self.drop(h.astype(self.dtype), deterministic=not train)
        for block in self.blocks:
            h = block(h, train)
        return self._logits(h)

    def init_cache(self, batch: int, max_len: int | None = None) -> Cache:
        """An empty key/value cache for ``batch`` sequences of up to ``max_len`` tokens."""
        n = max_len or self.max_len
        shape = (batch, n, self.num_heads, self.features // self.num_heads)
        return tuple((jnp.zeros(shape, self.dtype), jnp.zeros(shape, self.dtype))
                     for _ in range(self.num_layers))

    def decode(self, token: Array, position: Array, cache: Cache) -> tuple[Array, Cache]:
        """The next-token logits ``(B, vocab_size)`` after ``token (B,)`` at ``position``
        (a scalar), and the cache with this position's keys and values."""
        h = self.embed(token[:, None]) + self.position(position)[None, None]
        h = h.astype(self.dtype)
        new = []
        for block, layer_cache in zip(self.blocks, cache, strict=True):
            h, layer_cache = block.decode(h, position, layer_cache)
            new.append(layer_cache)
        return self._logits(h)[:, 0], tuple(new)
