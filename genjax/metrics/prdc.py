"""Precision/recall (k-NN manifolds) and density/coverage of generated features.

Definitions are those of the reference ``prdc`` package (clovaai/generative-
evaluation-prdc, Naeem et al. 2020, which also implements Kynkaanniemi et al.
2019's precision and recall). With Euclidean distances, ``r_k(x)`` the distance
from x to its k-th nearest neighbour in its own set (the (k+1)-th smallest
distance counting x itself), N real points X and M fake points Y:

* precision = share of fakes y with ``d(x, y) < r_k(x)`` for some real x;
* recall    = share of reals x with ``d(x, y) < r_k(y)`` for some fake y;
* density   = ``1 / (k M) * sum_y #{x : d(x, y) < r_k(x)}``;
* coverage  = share of reals x whose nearest fake is closer than ``r_k(x)``.

Comparisons are strict, as in the reference. Distances are computed by jitted
JAX in float32 (``Precision.HIGHEST``; squared distances compared with squared
radii) in chunks of ``chunk_size`` rows, so memory is ``O(chunk_size * max(N,
M))``, not ``O(N M)``. Results can differ from a float64 computation only when
a distance ties a radius to ~1e-6 relative.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

_HI = jax.lax.Precision.HIGHEST


def _sq_dists(a: jax.Array, b: jax.Array) -> jax.Array:
    """(len(a), len(b)) squared Euclidean distances, clipped at 0."""
    aa = jnp.sum(a * a, axis=1)[:, None]
    bb = jnp.sum(b * b, axis=1)[None, :]
    return jnp.maximum(aa + bb - 2.0 * jnp.matmul(a, b.T, precision=_HI), 0.0)


@functools.partial(jax.jit, static_argnames="k")
def _kth_sq_radius(chunk: jax.Array, data: jax.Array, k: int) -> jax.Array:
    """Squared distance from each chunk row to its (k+1)-th nearest row of ``data``."""
    smallest = -jax.lax.top_k(-_sq_dists(chunk, data), k + 1)[0]  # ascending
    return smallest[:, k]


@jax.jit
def _cross(real: jax.Array, real_r2: jax.Array, fake: jax.Array, fake_r2: jax.Array):
    """For a chunk of real rows against every fake row.

    Returns:
      (M,) counts of chunk reals whose ball holds each fake, and (c,) booleans:
      real inside some fake ball (recall), nearest fake inside the real's ball (coverage).
    """
    d2 = _sq_dists(real, fake)
    counts = jnp.sum(d2 < real_r2[:, None], axis=0, dtype=jnp.int32)
    in_fake_ball = jnp.any(d2 < fake_r2[None, :], axis=1)
    covered = jnp.min(d2, axis=1) < real_r2
    return counts, in_fake_ball, covered


def _chunks(x: jax.Array, size: int) -> list[jax.Array]:
    """Splits rows into chunks of exactly ``size`` rows (the last padded with zeros)."""
    pad = (-x.shape[0]) % size
    x = jnp.pad(x, ((0, pad), (0, 0)))
    return [x[i:i + size] for i in range(0, x.shape[0], size)]


def _radii(x: jax.Array, k: int, chunk_size: int) -> jax.Array:
    """(N,) squared k-NN radii of each row of ``x`` within ``x``."""
    parts = [_kth_sq_radius(c, x, k) for c in _chunks(x, chunk_size)]
    return jnp.concatenate(parts)[:x.shape[0]]


def _check(real: Any, fake: Any, k: int, chunk_size: int) -> tuple[jax.Array, jax.Array]:
    r, f = np.asarray(real), np.asarray(fake)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"Expected real and fake features (N, D) of one D, got {r.shape} and "
                         f"{f.shape}.")
    if k < 1 or k >= min(r.shape[0], f.shape[0]):
        raise ValueError(f"k must be in [1, min(N_real, N_fake) - 1] = [1, "
                         f"{min(r.shape[0], f.shape[0]) - 1}], got {k}; use more samples or a "
                         "smaller k.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}.")
    return jnp.asarray(r, jnp.float32), jnp.asarray(f, jnp.float32)


def prdc(real: Any, fake: Any, k: int = 5, chunk_size: int = 1024) -> dict[str, float]:
    """Precision, recall, density and coverage in one pass over the distances.

    Args:
      real: (N, D) real features.
      fake: (M, D) generated features.
      k: neighbourhood size of the k-NN balls (the reference's ``nearest_k``; default 5).
      chunk_size: rows of distances computed per call (memory ~ chunk_size * max(N, M)).

    Returns:
      ``{"precision", "recall", "density", "coverage"}`` as Python floats.
    """
    r, f = _check(real, fake, k, chunk_size)
    return _prdc(r, f, k, chunk_size, with_recall=True)


def _prdc(r: jax.Array, f: jax.Array, k: int, chunk_size: int,
          with_recall: bool) -> dict[str, float]:
    n = r.shape[0]
    real_r2 = _radii(r, k, chunk_size)
    fake_r2 = _radii(f, k, chunk_size) if with_recall else jnp.full(f.shape[0], -1.0)
    # Padded real rows get radius -1: they hold no fake; their row results are cut off.
    r2_padded = jnp.pad(real_r2, (0, (-n) % chunk_size), constant_values=-1.0)
    outs = [_cross(c, r2_padded[i * chunk_size:(i + 1) * chunk_size], f, fake_r2)
            for i, c in enumerate(_chunks(r, chunk_size))]
    counts = np.sum([np.asarray(o[0], np.int64) for o in outs], axis=0)
    in_fake_ball = np.concatenate([np.asarray(o[1]) for o in outs])[:n]
    covered = np.concatenate([np.asarray(o[2]) for o in outs])[:n]
    result = {
        "precision": float(np.mean(counts > 0)),
        "density": float(counts.sum() / (k * f.shape[0])),
        "coverage": float(np.mean(covered)),
    }
    if with_recall:
        result["recall"] = float(np.mean(in_fake_ball))
    return result


def precision_recall(real: Any, fake: Any, k: int = 5,
                     chunk_size: int = 1024) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019), prdc's definition.

    Args:
      real: (N, D) real features.
      fake: (M, D) generated features.
      k: neighbourhood size (default 5).
      chunk_size: rows of distances computed per call.

    Returns:
      ``(precision, recall)``.
    """
    out = prdc(real, fake, k, chunk_size)
    return out["precision"], out["recall"]


def density_coverage(real: Any, fake: Any, k: int = 5,
                     chunk_size: int = 1024) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020); skips the fake k-NN radii.

    Args:
      real: (N, D) real features.
      fake: (M, D) generated features.
      k: neighbourhood size (default 5).
      chunk_size: rows of distances computed per call.

    Returns:
      ``(density, coverage)``.
    """
    r, f = _check(real, fake, k, chunk_size)
    out = _prdc(r, f, k, chunk_size, with_recall=False)
    return out["density"], out["coverage"]
