"""The VQ-VAE's learned prior: the shared decoder-only Transformer over a flattened code grid.

``CodePrior(codes (B, T)) -> logits (B, T, K)``: position ``t``'s logits are the distribution
of ``codes[:, t]`` given ``codes[:, :t]`` (raster order). The sequence is shifted right behind
a start token (id ``K``, one more than the codes), so ``logits[:, t]`` never depends on
``codes[:, t:]``. The network is :class:`genjax.nn.transformer.Transformer` (pre-LayerNorm,
causal attention, learned positions, the output tied to the token embedding, GPT-2 init) over
``K + 1`` tokens; the start token's logit is dropped, so the distribution is over the ``K``
codes. Its cached ``decode`` path lets the prior sample all ``T`` codes in one ``lax.scan``
(:func:`genjax.nn.decoding.generate`) instead of re-running the network on the partial grid
for every position.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.transformer import Cache, Transformer

Array = jax.Array


class CodePrior(nn.Module):
    """Autoregressive model of code sequences.

    Attributes:
      num_codes: K, the vocabulary (codebook size); the start token is id K.
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

    def _network(self, **name) -> Transformer:
        return Transformer(vocab_size=self.num_codes + 1, max_len=self.length,
                           features=self.width, num_layers=self.depth, num_heads=self.heads,
                           mlp_ratio=self.mlp_ratio, **name)

    def setup(self):
        self.transformer = self._network()

    @property
    def start_token(self) -> int:
        """The id fed before the first code."""
        return self.num_codes

    def __call__(self, codes: Array) -> Array:
        """Next-code logits.

        Args:
          codes: int ``(B, T)`` code sequences with values in ``[0, K)``.

        Returns:
          float32 ``(B, T, K)``: ``logits[:, t]`` scores ``codes[:, t]`` given ``codes[:, :t]``.
        """
        if codes.ndim != 2 or codes.shape[1] != self.length:
            raise ValueError(f"the code prior expects codes of shape (batch, {self.length}); "
                             f"got {codes.shape}")
        start = jnp.full((codes.shape[0], 1), self.start_token, codes.dtype)
        inputs = jnp.concatenate([start, codes[:, :-1]], axis=1)
        return self.transformer(inputs)[..., :self.num_codes]

    def init_cache(self, batch: int, max_len: int | None = None) -> Cache:
        """An empty key/value cache (no parameters needed: callable on the unbound module)."""
        return self._network(parent=None).init_cache(batch, max_len)

    def decode(self, token: Array, position: Array, cache: Cache) -> tuple[Array, Cache]:
        """The logits ``(B, K)`` of the code at ``position`` given ``token (B,)`` there (the
        start token at 0, code ``position - 1`` after), and the updated cache."""
        logits, cache = self.transformer.decode(token, position, cache)
        return logits[:, :self.num_codes], cache
