"""The article's RNN language model: an LSTM or GRU stack scanned over time.

``flax.linen`` cells (``LSTMCell``, ``GRUCell``) under ``nn.RNN`` (a ``lax.scan`` over the
sequence); the same layers advance one token at a time in ``decode``, carrying each layer's
state in the cache, so sampling is one ``lax.scan`` as for the Transformer.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array
CELLS = ("lstm", "gru")


class RNNLanguageModel(nn.Module):
    """Token embedding, ``num_layers`` recurrent layers, a linear read-out to the vocabulary.

    Attributes:
      vocab_size: number of token ids.
      features: embedding and hidden width.
      num_layers: stacked recurrent layers.
      cell: ``"lstm"`` or ``"gru"``.
      dropout: dropout on the embeddings and between layers.
      dtype: activation dtype (logits are float32).
    """

    vocab_size: int
    features: int = 256
    num_layers: int = 2
    cell: str = "lstm"
    dropout: float = 0.0
    dtype: Any = jnp.float32

    def setup(self):
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        cls = nn.LSTMCell if self.cell == "lstm" else nn.GRUCell
        self.embed = nn.Embed(self.vocab_size, self.features,
                              embedding_init=nn.initializers.normal(0.1))
        self.layers = [nn.RNN(cls(self.features, dtype=self.dtype), return_carry=True,
                              name=f"rnn_{i}") for i in range(self.num_layers)]
        self.drop = nn.Dropout(self.dropout)
        self.out = nn.Dense(self.vocab_size, dtype=self.dtype)

    def _read_out(self, h: Array) -> Array:
        return self.out(h).astype(jnp.float32)

    def __call__(self, tokens: Array, train: bool = False) -> Array:
        """Logits ``(B, T, vocab_size)`` of the next token at every position (zero start
        state)."""
        h = self.drop(self.embed(tokens).astype(self.dtype), deterministic=not train)
        for layer in self.layers:
            _, h = layer(h)
            h = self.drop(h, deterministic=not train)
        return self._read_out(h)

    def init_cache(self, batch: int, max_len: int | None = None) -> tuple:
        """Zero states of every layer (``max_len`` is unused: the state has no length)."""
        del max_len
        zeros = jnp.zeros((batch, self.features), self.dtype)
        one = (zeros, zeros) if self.cell == "lstm" else zeros
        return tuple(one for _ in range(self.num_layers))

    def decode(self, token: Array, position: Array, cache: tuple) -> tuple[Array, tuple]:
        """Logits ``(B, vocab_size)`` after ``token (B,)`` and the layers' new states."""
        del position
        h = self.embed(token[:, None]).astype(self.dtype)
        new = []
        for layer, carry in zip(self.layers, cache, strict=True):
            carry, h = layer(h, initial_carry=carry)
            new.append(carry)
        return self._read_out(h)[:, 0], tuple(new)
