"""Vector quantisation (VQ-VAE, van den Oord et al., 2017): pure functions over a codebook.

A codebook is a ``(K, D)`` array of code vectors. Encoder outputs ``z (..., D)`` are replaced
by their nearest code (squared Euclidean distance); the decoder sees the quantised vectors,
and gradients reach the encoder through the straight-through estimator.

Two ways to learn the codebook:

* ``plain``: the codebook is a parameter trained by the codebook loss
  ``mean((sg[z] - e)^2)``; the encoder gets the commitment loss ``beta * mean((z - sg[e])^2)``.
* ``ema``: the codebook follows exponential moving averages of the cluster sizes ``N_k`` and
  of the sums of the encoder outputs assigned to each code ``m_k`` (paper, appendix A.1),
  ``e_k = m_k / N~_k`` with ``N~_k`` the Laplace-smoothed cluster size of Sonnet's
  ``VectorQuantizerEMA``; see :func:`codebook_ema_update`. Only the commitment loss remains.

Loss scaling (both variants, as in Sonnet): every term is a mean over all elements (examples,
grid positions and the D code dimensions), so ``beta`` is comparable across code sizes.

Dead-code restarts (:func:`restart_dead_codes`): a code no input selected for
``restart_after`` consecutive steps is re-seeded with an encoder output of the current
batch, chosen from the step's key (as in Jukebox / Dhariwal et al., 2020, without noise).

Under ``jax.pmap`` over the data axis (``genjax.core.collectives.data_axis``) code counts and
EMA sums are summed over the devices (``psum``) and the restart candidates gathered from all
of them, so the codebook, its statistics and the metrics are those of the single-device
program on the global batch. On one device or under sharded jit they are local reductions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from genjax.core.collectives import data_axis

Array = jax.Array

PLAIN, EMA = "plain", "ema"
VARIANTS = (PLAIN, EMA)


def _psum(x: Array) -> Array:
    axis = data_axis()
    return x if axis is None else jax.lax.psum(x, axis)


def init_codebook(key: Array, num_codes: int, code_dim: int) -> Array:
    """Sonnet's codebook initialiser: uniform in ``[-sqrt(3/D), sqrt(3/D)]`` (unit variance/D).

    Args:
      key: PRNG key.
      num_codes: K.
      code_dim: D.

    Returns:
      ``(K, D)`` float32 codebook.
    """
    limit = (3.0 / code_dim) ** 0.5
    return jax.random.uniform(key, (num_codes, code_dim), jnp.float32, -limit, limit)


def squared_distances(z: Array, codebook: Array) -> Array:
    """``|z - e_k|^2`` for every vector and code.

    Args:
      z: ``(N, D)`` vectors.
      codebook: ``(K, D)`` codes.

    Returns:
      ``(N, K)`` squared Euclidean distances (expanded form, clipped at 0).
    """
    d = (jnp.sum(z**2, -1, keepdims=True) - 2.0 * z @ codebook.T
         + jnp.sum(codebook**2, -1)[None, :])
    return jnp.maximum(d, 0.0)


def nearest_codes(z: Array, codebook: Array) -> Array:
    """Index of the nearest code of each vector (ties: the lowest index).

    Args:
      z: ``(..., D)`` encoder outputs.
      codebook: ``(K, D)``.

    Returns:
      int32 indices of shape ``z.shape[:-1]``.
    """
    flat = z.reshape(-1, z.shape[-1])
    return jnp.argmin(squared_distances(flat, codebook), -1).astype(jnp.int32).reshape(
        z.shape[:-1])


def lookup(codebook: Array, indices: Array) -> Array:
    """The code vectors of ``indices``: ``(...)`` ints -> ``(..., D)``."""
    return jnp.take(codebook, indices, axis=0)


def straight_through(z: Array, quantized: Array) -> Array:
    """Forward value ``quantized``, gradient the identity to ``z`` (straight-through estimator)."""
    return z + jax.lax.stop_gradient(quantized - z)


def codebook_loss(z: Array, quantized: Array) -> Array:
    """``mean((sg[z] - e)^2)``: moves the selected codes towards the encoder outputs."""
    return jnp.mean((jax.lax.stop_gradient(z) - quantized) ** 2)


def commitment_loss(z: Array, quantized: Array) -> Array:
    """``mean((z - sg[e])^2)`` (unweighted; the objective multiplies it by beta)."""
    return jnp.mean((z - jax.lax.stop_gradient(quantized)) ** 2)


def code_counts(indices: Array, num_codes: int) -> Array:
    """How often each code was selected, over the (global) batch.

    Under pmap the counts are summed over the devices.

    Args:
      indices: int code indices, any shape.
      num_codes: K.

    Returns:
      ``(K,)`` float32 counts.
    """
    counts = jnp.zeros((num_codes,), jnp.float32).at[indices.reshape(-1)].add(1.0)
    return _psum(counts)


def perplexity(counts: Array) -> Array:
    """``exp(entropy)`` of the code distribution ``counts / sum(counts)``, in [1, K].

    Equals K for a uniform use of all codes and 1 when one code takes everything.
    """
    p = counts / jnp.maximum(jnp.sum(counts), 1e-12)
    return jnp.exp(-jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0)))


def usage(counts: Array) -> Array:
    """Share of the K codes selected at least once."""
    return jnp.mean((counts > 0).astype(jnp.float32))


def init_ema_state(codebook: Array) -> dict[str, Array]:
    """EMA statistics whose codebook is ``codebook``: ``N_k = 1``, ``m_k = e_k``.

    Starting the cluster sizes at 1 (rather than Sonnet's 0 with zero-debiasing) keeps the
    codebook of an unselected code at its initial value: its ``m_k`` and ``N_k`` decay by the
    same factor. The Laplace smoothing of ``N_k = 1`` for every code is exactly 1.

    Args:
      codebook: ``(K, D)`` initial codes.

    Returns:
      ``{"codebook": (K, D), "cluster_size": (K,), "embed_sum": (K, D)}``.
    """
    codebook = jnp.asarray(codebook, jnp.float32)
    return {"codebook": codebook, "cluster_size": jnp.ones(codebook.shape[:1], jnp.float32),
            "embed_sum": jnp.copy(codebook)}


def smoothed_cluster_size(cluster_size: Array, epsilon: float) -> Array:
    """Laplace smoothing (Sonnet): ``(N_k + eps) / (n + K eps) * n`` with ``n = sum_k N_k``."""
    n = jnp.sum(cluster_size)
    return (cluster_size + epsilon) / (n + cluster_size.shape[0] * epsilon) * n


def codebook_ema_update(state: dict[str, Array], z: Array, indices: Array, decay: float,
               epsilon: float) -> dict[str, Array]:
    """One EMA step of the codebook statistics (paper appendix A.1 with Laplace smoothing).

    ``N_k <- decay N_k + (1 - decay) n_k``, ``m_k <- decay m_k + (1 - decay) sum_{i: k_i = k}
    z_i``, ``e_k = m_k / N~_k`` with ``N~`` from :func:`smoothed_cluster_size`. Under pmap
    ``n_k`` and the sums are totals over the devices.

    Args:
      state: ``init_ema_state``'s dict (other keys are carried over).
      z: ``(..., D)`` encoder outputs of this (local) batch, not differentiated.
      indices: their nearest codes, ``z.shape[:-1]``.
      decay: EMA decay (0.99 in the paper).
      epsilon: Laplace smoothing constant (1e-5 in Sonnet).

    Returns:
      The updated state (same keys).
    """
    num_codes, dim = state["codebook"].shape
    flat = jax.lax.stop_gradient(z).reshape(-1, dim).astype(jnp.float32)
    onehot = jax.nn.one_hot(indices.reshape(-1), num_codes, dtype=jnp.float32)
    counts = _psum(jnp.sum(onehot, 0))
    sums = _psum(onehot.T @ flat)
    cluster_size = decay * state["cluster_size"] + (1.0 - decay) * counts
    embed_sum = decay * state["embed_sum"] + (1.0 - decay) * sums
    codebook = embed_sum / smoothed_cluster_size(cluster_size, epsilon)[:, None]
    return {**state, "cluster_size": cluster_size, "embed_sum": embed_sum, "codebook": codebook}


def update_unused(unused: Array, counts: Array) -> Array:
    """Consecutive steps without a selection: 0 where ``counts > 0``, else ``unused + 1``."""
    return jnp.where(counts > 0, 0, unused + 1).astype(unused.dtype)


def restart_dead_codes(state: dict[str, Array], unused: Array, z: Array, key: Array,
                       restart_after: int) -> tuple[dict[str, Array], Array, Array]:
    """Re-seeds codes unused for ``restart_after`` steps with encoder outputs of this batch.

    Each dead code ``k`` gets ``e_k = m_k = z_j`` and ``N_k = 1`` (the state of a code that
    has just been selected once) and its unused count is reset; ``j`` is drawn uniformly from
    the batch's positions with ``key`` (one draw per code, with replacement). Under pmap the
    candidates come from the global batch (all devices' outputs).

    Args:
      state: EMA statistics (``init_ema_state``).
      unused: ``(K,)`` int32 consecutive unused steps, already updated for this batch.
      z: ``(..., D)`` encoder outputs of this (local) batch.
      key: the same key on every device.
      restart_after: steps without selection before a code counts as dead (>= 1).

    Returns:
      ``(state, unused, number of codes restarted)``.
    """
    num_codes, dim = state["codebook"].shape
    flat = jax.lax.stop_gradient(z).reshape(-1, dim).astype(jnp.float32)
    axis = data_axis()
    if axis is not None:
        flat = jax.lax.all_gather(flat, axis, tiled=True)
    rows = jax.random.randint(key, (num_codes,), 0, flat.shape[0])
    candidates = flat[rows]
    dead = unused >= restart_after
    col = dead[:, None]
    new_state = {
        **state,
        "codebook": jnp.where(col, candidates, state["codebook"]),
        "embed_sum": jnp.where(col, candidates, state["embed_sum"]),
        "cluster_size": jnp.where(dead, 1.0, state["cluster_size"]),
    }
    return new_state, jnp.where(dead, 0, unused).astype(unused.dtype), jnp.sum(dead)
