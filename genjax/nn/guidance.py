"""Classifier-free guidance (Ho & Salimans, 2022), shared by the diffusion-era families.

Training replaces each label by the null label with probability ``p`` (:func:`drop_labels`);
sampling runs the conditional and the null prediction in one batched call and extrapolates
(:func:`guided`): ``out_null + scale * (out_label - out_null)``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from genjax.core.collectives import batch_random


def drop_labels(key: jax.Array, labels: jax.Array, prob: float, null_label: int) -> jax.Array:
    """``labels`` with each one replaced by ``null_label`` with probability ``prob``
    (per-example draws, the same on one device and under pmap)."""
    drop = batch_random(lambda k, s: jax.random.bernoulli(k, prob, s), key, labels.shape[:1])
    return jnp.where(drop, null_label, labels)


def guided(predict: Callable[[jax.Array, jax.Array, jax.Array], jax.Array], x: jax.Array,
           t: jax.Array, labels: jax.Array, null_label: int, scale: float) -> jax.Array:
    """The guided prediction ``null + scale * (conditional - null)`` from one batched call.

    Args:
      predict: ``predict(x, t, labels) -> (B, ...)``, e.g. a noise or velocity network.
      x, t: inputs ``(B, ...)`` and times ``(B,)``.
      labels: the classes to sample ``(B,)``.
      null_label: the label the network was trained to read as "no class".
      scale: the guidance scale (1: the conditional prediction).
    """
    out = predict(jnp.concatenate([x, x]), jnp.concatenate([t, t]),
                  jnp.concatenate([labels, jnp.full_like(labels, null_label)]))
    conditional, null = jnp.split(out, 2)
    return null + scale * (conditional - null)


def batch_labels(batch: dict, label_key: str, n: int, model: str) -> jax.Array:
    """The int32 class labels ``(n,)`` of a batch for a class-conditional ``model`` (its name,
    for the message).

    Raises:
      ValueError: the batch has no ``label_key`` field.
    """
    if label_key not in batch:
        raise ValueError(f"a class-conditional {model} model needs {label_key!r} in each batch "
                         f"(got fields {sorted(batch)}); use labelled data or set "
                         "num_classes=None")
    return jnp.asarray(batch[label_key], jnp.int32).reshape(n)
