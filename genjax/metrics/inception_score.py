"""Inception Score from class probabilities, with splits (Salimans et al. 2016).

As the reference code (openai/improved-gan, torch-fidelity, pytorch-gan-metrics):
the N rows are cut into ``splits`` consecutive parts (rows ``i N // splits`` to
``(i + 1) N // splits``); in each part ``IS = exp(mean_x KL(p(y|x) || p(y)))``
with ``p(y)`` the part's mean prediction; the result is the mean and the
population standard deviation (ddof 0) over parts. Computed in float64 NumPy
(the work is O(N K); the network producing the probabilities is the cost).
Shuffle the rows first if their order is not random.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def inception_score(probs: Any, splits: int = 10) -> tuple[float, float]:
    """Inception Score of a set of class-probability vectors.

    Args:
      probs: (N, K) softmax probabilities (not logits), rows summing to 1.
      splits: number of consecutive parts scored separately (default 10, as in the paper).

    Returns:
      ``(mean, std)`` over parts. Uniform predictions give 1; confident predictions
      spread evenly over K classes give K.
    """
    p = np.asarray(probs, np.float64)
    if p.ndim != 2:
        raise ValueError(f"inception_score expects (N, K) probabilities, got shape {p.shape}.")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("inception_score expects probabilities (non-negative rows summing to "
                         "1); apply a softmax to logits first.")
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be between 1 and the number of samples ({n}), got "
                         f"{splits}.")
    scores = np.empty(splits, np.float64)
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        safe = np.where(part > 0, part, 1.0)  # 0 log 0 = 0
        kl = np.sum(np.where(part > 0, part * (np.log(safe) - np.log(np.where(py > 0, py, 1.0))),
                             0.0), axis=1)
        scores[i] = np.exp(kl.mean())
    return float(scores.mean()), float(scores.std())
