"""Autoregressive decoding with a cache: temperature, top-k, top-p, one compiled scan.

:func:`generate` feeds a padded prompt through a model's ``decode`` one position at a time
inside a single ``lax.scan`` (the model's cache: a Transformer's keys and values
(:mod:`genjax.nn.transformer`), an RNN's states); at positions inside the prompt the next
token is the prompt's, after it a sample. The prompt's length is an array, so prompts of any
length share one compiled program per padded length. The language models (``gpt``, ``rnn``)
and the VQ-VAE's code prior sample through it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

Array = jax.Array


def filter_logits(logits: Array, temperature: Array, top_k: Array, top_p: Array) -> Array:
    """Logits ``(B, V)`` divided by ``temperature``, outside the ``top_k`` largest and outside
    the smallest set of largest tokens whose probability reaches ``top_p`` set to -inf.

    Args:
      logits: float ``(B, V)``.
      temperature: > 0.
      top_k: keep the ``top_k`` largest logits (0: all); ties at the k-th value are kept.
      top_p: nucleus mass in (0, 1] (1: all), over the top-k filtered distribution; the
        most likely token is always kept.

    Returns:
      The filtered logits (float32).
    """
    logits = jnp.asarray(logits, jnp.float32) / temperature
    vocab = logits.shape[-1]
    ordered = jnp.sort(logits, axis=-1)[:, ::-1]
    k = jnp.where(top_k > 0, jnp.minimum(top_k, vocab), vocab)
    kth = jnp.take(ordered, k - 1, axis=-1)[:, None]
    logits = jnp.where(logits < kth, -jnp.inf, logits)
    ordered = jnp.where(ordered < kth, -jnp.inf, ordered)
    probs = jax.nn.softmax(ordered, axis=-1)
    before = jnp.cumsum(probs, axis=-1) - probs  # mass of the tokens ranked above
    keep = before < top_p
    smallest = jnp.min(jnp.where(keep, ordered, jnp.inf), axis=-1, keepdims=True)
    return jnp.where(logits < smallest, -jnp.inf, logits)


def sample_token(key: Array, logits: Array, temperature: Array, top_k: Array,
                 top_p: Array) -> Array:
    """One token per row ``(B,)`` int32 from the filtered logits."""
    return jax.random.categorical(key, filter_logits(logits, temperature, top_k, top_p)
                                  ).astype(jnp.int32)


@functools.partial(jax.jit, static_argnums=0)
def generate(model, params, prompt: Array, prompt_len: Array, key: Array,
             temperature: Array, top_k: Array, top_p: Array) -> Array:
    """Continues ``prompt`` to its padded length with the model's cached ``decode``.

    Args:
      model: a module with ``init_cache(batch, max_len)`` and
        ``decode(token, position, cache) -> (logits, cache)``.
      params: its parameters.
      prompt: int32 ``(B, N)``: each row's prompt in its first ``prompt_len`` tokens (>= 1),
        any padding after.
      prompt_len: int scalar.
      key: sampling key; position ``t``'s token uses ``fold_in(key, t)``.
      temperature, top_k, top_p: see :func:`filter_logits`.

    Returns:
      int32 ``(B, N)``: the prompt, then sampled tokens.
    """
    b, n = prompt.shape
    cache = model.init_cache(b, n)
    padded = jnp.concatenate([prompt, prompt[:, -1:]], axis=1)  # index t + 1 always valid

    def step(carry, t):
        cache, token = carry
        logits, cache = model.apply({"params": params}, token, t, cache, method="decode")
        drawn = sample_token(jax.random.fold_in(key, t), logits, temperature, top_k, top_p)
        nxt = jnp.where(t + 1 < prompt_len, padded[:, t + 1], drawn)
        return (cache, nxt), nxt

    _, out = jax.lax.scan(step, (cache, prompt[:, 0]), jnp.arange(n - 1))
    return jnp.concatenate([prompt[:, :1], out.T], axis=1)


def padded_length(total: int, limit: int, smallest: int = 16) -> int:
    """The compiled length for ``total`` tokens: the next power of two (at least
    ``smallest``), capped at ``limit``."""
    n = smallest
    while n < total:
        n *= 2
    return min(n, limit)
