"""Kernel Inception Distance: unbiased polynomial-kernel MMD^2 over random subsets.

As in Binkowski et al. 2018 ("Demystifying MMD GANs"), clean-fid and
torch-fidelity: kernel ``k(x, y) = (x . y / D + 1)^3``; for each of
``num_subsets`` subsets, ``m`` rows of each set drawn without replacement and
independently, the unbiased estimate

    MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
            - 2 sum_{i, j} k(x_i, y_j) / m^2.

KID is the mean over subsets; the spread is the population standard deviation
(``np.std``, ddof 0) of the subset values, as torch-fidelity reports.

Precision: the Gram matrices and kernel values are computed by jitted JAX in
float32 (``Precision.HIGHEST``, so accelerators do not drop to TF32/bf16), the
reference tools' precision; per-row sums come back to the host and are summed
and combined in float64, so the cancellation between the three terms loses no
more than float32 round-off of individual kernel values (~1e-7 relative).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def _kernel_row_sums(x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Row sums of k(x, x) and k(y, y) without the diagonal, and of k(x, y).

    Args:
      x: (m, D) float32 subset of the first set.
      y: (m, D) float32 subset of the second set.

    Returns:
      Three (m,) float32 arrays of row sums.
    """
    d = x.shape[1]
    hi = jax.lax.Precision.HIGHEST

    def k(a, b):
        return (jnp.matmul(a, b.T, precision=hi) / d + 1.0) ** 3

    kxx, kyy = k(x, x), k(y, y)
    kxy = k(x, y)
    return (kxx.sum(1) - jnp.diagonal(kxx), kyy.sum(1) - jnp.diagonal(kyy), kxy.sum(1))


@jax.jit
def _gather_row_sums(a: jax.Array, b: jax.Array, ia: jax.Array, ib: jax.Array):
    return _kernel_row_sums(a[ia], b[ib])


def kid(feats_a: Any, feats_b: Any, num_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance between two feature sets.

    Args:
      feats_a: (N_a, D) features of the first set (e.g. real).
      feats_b: (N_b, D) features of the second set (e.g. generated).
      num_subsets: number of random subsets averaged (torch-fidelity's default 100).
      subset_size: rows per subset (default 1000); clamped to ``min(N_a, N_b)`` as in
        clean-fid, so small sets still work.
      seed: seed of the NumPy generator that draws the subsets.

    Returns:
      ``(mean, std)`` of the unbiased MMD^2 over subsets, as Python floats.
    """
    a = np.asarray(feats_a)
    b = np.asarray(feats_b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"kid expects two (N, D) feature arrays of one D, got {a.shape} and "
                         f"{b.shape}.")
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2:
        raise ValueError(f"kid needs at least 2 samples per set (got {a.shape[0]} and "
                         f"{b.shape[0]}) and subset_size >= 2 (got {subset_size}).")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}.")
    rng = np.random.default_rng(seed)
    da = jnp.asarray(a, jnp.float32)
    db = jnp.asarray(b, jnp.float32)
    pending = []  # dispatch every subset first (asynchronous), then read the sums back
    for _ in range(num_subsets):
        ia = rng.choice(a.shape[0], m, replace=False)
        ib = rng.choice(b.shape[0], m, replace=False)
        pending.append(_gather_row_sums(da, db, ia, ib))
    values = np.empty(num_subsets, np.float64)
    for s, sums in enumerate(pending):
        sxx, syy, sxy = (np.asarray(r, np.float64).sum() for r in sums)
        values[s] = (sxx + syy) / (m * (m - 1)) - 2.0 * sxy / (m * m)
    return float(values.mean()), float(values.std())
