"""Class coverage of generated samples, judged by a trained digit classifier (Stacked-MNIST way)."""

from __future__ import annotations

import jax
import numpy as np


def class_shares(probs: np.ndarray) -> np.ndarray:
    """Share of samples whose most likely class is each class.

    Args:
      probs: (N, K) class probabilities.

    Returns:
      (K,) float64 shares summing to 1.
    """
    probs = np.asarray(probs)
    counts = np.bincount(np.argmax(probs, axis=1), minlength=probs.shape[1])
    return counts / counts.sum()


def kl_from_uniform(shares: np.ndarray) -> float:
    """KL(shares || uniform) in nats; 0 when every class is equally represented.

    Args:
      shares: (K,) class shares summing to 1.

    Returns:
      ``sum_k p_k log(K p_k)`` with ``0 log 0 = 0``.
    """
    p = np.asarray(shares, np.float64)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(len(p) * p[nz])))


def predict_in_batches(predict, params, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Runs a jitted ``predict(params, images) -> probs`` over a large array in batches.

    Args:
      predict: the classifier's prediction function.
      params: its parameters.
      images: (N, H, W, C) in [-1, 1].
      batch_size: images per call.

    Returns:
      (N, K) probabilities.
    """
    fn = jax.jit(predict)
    return np.concatenate([np.asarray(fn(params, images[i:i + batch_size]))
                           for i in range(0, len(images), batch_size)])
