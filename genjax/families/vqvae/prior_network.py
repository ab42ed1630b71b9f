"""A small causal Transformer over a flattened code grid (the VQ-VAE's learned prior).

``CodeTransformer(codes (B, T)) -> logits (B, T, K)``: position ``t``'s logits are the
distribution of ``codes[:, t]`` given ``codes[:, :t]`` (raster order). Inside, the sequence is
shifted right behind a learned start token, so position t only attends to the start token and
codes before t (a causal mask); ``logits[:, t]`` never depends on ``codes[:, t:]``.

Layers (pre-LayerNorm, GPT-2 style): token + learned position embeddings, ``depth`` blocks of
``x + attention(LN(x))`` and ``x + MLP(LN(x))`` (GELU, ``mlp_ratio`` times wider), a last
LayerNorm and a linear head to K logits.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


class _Block(nn.Module):
    width: int
    heads: int
    mlp_ratio: int

    @nn.compact
    def __call__(self, x: Array, mask: Array) -> Array:
        h = nn.MultiHeadDotProductAttention(num_heads=self.heads, qkv_features=self.width)(
            nn.LayerNorm()(x), mask=mask)
        x = x + h
        h = nn.Dense(self.mlp_ratio * self.width)(nn.LayerNorm()(x))
        return x + nn.Dense(self.width)(nn.gelu(h))


class CodeTransformer(nn.Module):
    """Autoregressive model of code sequences.

    Attributes:
      num_codes: K, the vocabulary (codebook size).
      length: T, the sequence length (code grid side squared).
      width: model width.
      depth: number of Transformer blocks.
      heads: attention heads (must divide ``width``).
      mlp_ratio: MLP hidden width / ``width``.
    """

    num_codes: int
    length: int
    width: int = 128
    depth: int = 2
    heads: int = 4
    mlp_ratio: int = 4

    @nn.compact
    def __call__(self, codes: Array) -> Array:
        """Next-code logits.

        Args:
          codes: int ``(B, T)`` code sequences with values in ``[0, K)``.

        Returns:
          float32 ``(B, T, K)``: ``logits[:, t]`` scores ``codes[:, t]`` given ``codes[:, :t]``.
        """
        if codes.ndim != 2 or codes.shape[1] != self.length:
            raise ValueError(f"CodeTransformer expects codes of shape (batch, {self.length}); "
                             f"got {codes.shape}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} must be divisible by heads {self.heads}")
        start = jnp.full((codes.shape[0], 1), self.num_codes, codes.dtype)
        inputs = jnp.concatenate([start, codes[:, :-1]], axis=1)
        x = nn.Embed(self.num_codes + 1, self.width, name="embed")(inputs)
        x = x + self.param("position", nn.initializers.normal(0.02), (self.length, self.width))
        mask = nn.make_causal_mask(inputs)
        for _ in range(self.depth):
            x = _Block(self.width, self.heads, self.mlp_ratio)(x, mask)
        return nn.Dense(self.num_codes, name="head")(nn.LayerNorm()(x)).astype(jnp.float32)
