"""Frechet distance (FID) and streaming float64 feature statistics.

FID = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), with the unbiased (n - 1)
covariance that numpy.cov, pytorch-fid and clean-fid use.

Statistics are accumulated on the host in float64 while features stream in,
batch by batch; all features are never held at once. The accumulator keeps the
count, the mean and the centred sum of outer products ``M2 = sum (x - mu)(x -
mu)^T`` and merges batches with Chan et al.'s pairwise update. This carries the
same information as (count, sum, sum of outer products) but does not lose
digits to ``E[xx^T] - mu mu^T`` cancellation when features have a large mean.

The trace term uses the symmetric form: Tr((S1 S2)^1/2) = Tr((A S2 A)^1/2)
with A = S1^1/2 (the two matrices are similar), and ``A S2 A`` is symmetric
positive semi-definite, so its square-root trace is the sum of the square roots
of its eigenvalues (``numpy.linalg.eigvalsh``, tiny negative round-off clipped
to 0). Unlike ``scipy.linalg.sqrtm(S1 @ S2)`` this needs no offset for singular
covariances (fewer samples than feature dimensions) and never returns complex
values; on well-conditioned inputs it agrees with the sqrtm formula to ~1e-10
relative (tested to 1e-6).

Files: :func:`save_stats` writes ``.npz`` with ``mu``, ``sigma`` (pytorch-fid's
keys) and ``count``; :func:`load_moments` reads ``mu``/``sigma`` from ours or
pytorch-fid's files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np


def _as_features(feats: Any, name: str = "features") -> np.ndarray:
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2D array (num_samples, feature_dim), got shape "
                         f"{x.shape}; reshape to (N, D) first.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contain NaN or Inf; check the feature network's inputs.")
    return x


@dataclasses.dataclass(frozen=True)
class FeatureStats:
    """Immutable float64 running statistics of feature vectors.

    Attributes:
      count: number of feature vectors seen.
      mean: (D,) float64 mean.
      m2: (D, D) float64 centred sum of outer products, ``sum_i (x_i - mean)(x_i - mean)^T``.
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> FeatureStats:
        """Statistics of zero vectors of dimension ``dim``.

        Args:
          dim: feature dimension D.

        Returns:
          A FeatureStats with count 0.
        """
        return cls(0, np.zeros(dim, np.float64), np.zeros((dim, dim), np.float64))

    @classmethod
    def from_features(cls, feats: Any) -> FeatureStats:
        """Statistics of one (N, D) array of features (two-pass, float64).

        Args:
          feats: (N, D) array-like (NumPy or JAX), any float dtype.

        Returns:
          FeatureStats with count N.
        """
        x = _as_features(feats)
        mean = x.mean(axis=0)
        xc = x - mean
        return cls(int(x.shape[0]), mean, xc.T @ xc)

    @classmethod
    def from_moments(cls, mu: Any, sigma: Any, count: int) -> FeatureStats:
        """Rebuilds statistics from a mean, an unbiased covariance and a count.

        Args:
          mu: (D,) mean.
          sigma: (D, D) covariance with (count - 1) normalisation.
          count: number of samples behind them (>= 2).

        Returns:
          FeatureStats equal (to round-off) to the one that produced ``mu, sigma``.
        """
        mu = np.asarray(mu, np.float64)
        sigma = np.asarray(sigma, np.float64)
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            raise ValueError(f"mu must be (D,) and sigma (D, D); got {mu.shape} and {sigma.shape}.")
        if count < 2:
            raise ValueError(f"count must be >= 2 to rebuild statistics from a covariance, got "
                             f"{count}.")
        return cls(int(count), mu, sigma * (count - 1))

    @property
    def dim(self) -> int:
        """Feature dimension D."""
        return int(self.mean.shape[0])

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Statistics of the union of two sets (Chan et al. pairwise update).

        Args:
          other: statistics of another set of the same dimension.

        Returns:
          New FeatureStats; ``self`` and ``other`` are unchanged.
        """
        if other.dim != self.dim:
            raise ValueError(f"Cannot merge statistics of dimension {self.dim} and {other.dim}.")
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.count / n)
        m2 = self.m2 + other.m2 + np.outer(delta, delta) * (self.count * other.count / n)
        return FeatureStats(n, mean, m2)

    def update(self, feats: Any) -> FeatureStats:
        """Statistics after also seeing a batch of features.

        Args:
          feats: (B, D) array-like (NumPy or JAX); converted to float64 on the host.

        Returns:
          New FeatureStats; ``self`` is unchanged.
        """
        x = _as_features(feats)
        if x.shape[1] != self.dim:
            raise ValueError(f"Batch has feature dimension {x.shape[1]}, statistics have "
                             f"{self.dim}.")
        if x.shape[0] == 0:
            return self
        return self.merge(FeatureStats.from_features(x))

    def cov(self) -> np.ndarray:
        """Unbiased covariance, ``m2 / (count - 1)`` (numpy.cov's normalisation).

        Returns:
          (D, D) float64 covariance.
        """
        if self.count < 2:
            raise ValueError(f"A covariance needs at least 2 samples, got {self.count}.")
        return self.m2 / (self.count - 1)


def stats_from_batches(feature_fn: Callable[[Any], Any], batches: Iterable[Any],
                       stats: FeatureStats | None = None) -> FeatureStats:
    """Streams batches through a (jitted) feature function, accumulating float64 statistics.

    The function runs on the device; its outputs are copied to the host and
    accumulated there in float64. The next batch is dispatched before the
    previous result is copied, so device work overlaps host accumulation.

    Args:
      feature_fn: ``batch -> (B, D)`` features, e.g. a ``jax.jit``-ed network.
      batches: iterable of batches accepted by ``feature_fn``.
      stats: statistics to continue from (default: start empty).

    Returns:
      FeatureStats over every feature vector produced.
    """
    pending = None
    for batch in batches:
        out = feature_fn(batch)  # dispatched asynchronously by JAX
        if pending is not None:
            stats = _accumulate(stats, pending)
        pending = out
    if pending is not None:
        stats = _accumulate(stats, pending)
    if stats is None:
        raise ValueError("stats_from_batches got no batches.")
    return stats


def _accumulate(stats: FeatureStats | None, feats: Any) -> FeatureStats:
    x = _as_features(feats)
    return FeatureStats.from_features(x) if stats is None else stats.update(x)


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Uses Tr((S1 S2)^1/2) = sum sqrt(eig(S1^1/2 S2 S1^1/2)) (see the module docstring).

    Args:
      mu1: (D,) mean of the first set.
      sigma1: (D, D) covariance of the first set.
      mu2: (D,) mean of the second set.
      sigma2: (D, D) covariance of the second set.

    Returns:
      The distance, a Python float >= 0 (up to round-off).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != mu2.shape or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"Expected means (D,) and covariances (D, D) of one D; got mu1 "
                         f"{mu1.shape}, sigma1 {s1.shape}, mu2 {mu2.shape}, sigma2 {s2.shape}.")
    s1 = 0.5 * (s1 + s1.T)
    s2 = 0.5 * (s2 + s2.T)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh(0.5 * (inner + inner.T))
    tr_covmean = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def fid_from_stats(stats_a: FeatureStats, stats_b: FeatureStats) -> float:
    """FID between two sets given their streaming statistics.

    Args:
      stats_a: statistics of the first set.
      stats_b: statistics of the second set.

    Returns:
      The Frechet distance.
    """
    return frechet_distance(stats_a.mean, stats_a.cov(), stats_b.mean, stats_b.cov())


def fid_from_features(feats_a: Any, feats_b: Any) -> float:
    """FID between two (N, D) feature arrays (float64 statistics).

    Args:
      feats_a: (N_a, D) features of the first set.
      feats_b: (N_b, D) features of the second set.

    Returns:
      The Frechet distance.
    """
    return fid_from_stats(FeatureStats.from_features(feats_a), FeatureStats.from_features(feats_b))


def save_stats(path: str | Path, stats: FeatureStats) -> Path:
    """Writes statistics as ``.npz`` with ``mu``, ``sigma`` (pytorch-fid's keys) and ``count``.

    Args:
      path: file to write (``.npz`` is appended by NumPy when missing); parents are created.
      stats: the statistics (count >= 2).

    Returns:
      The path written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, mu=stats.mean, sigma=stats.cov(), count=np.int64(stats.count))
    return path


def _read_npz(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No statistics file at {path}.")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    missing = {"mu", "sigma"} - set(arrays)
    if missing:
        raise ValueError(f"{path} lacks {sorted(missing)}: FID statistics files hold 'mu' and "
                         "'sigma' (as written by genjax.metrics.save_stats or pytorch-fid "
                         "--save-stats).")
    return arrays


def load_moments(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Reads ``(mu, sigma)`` from our ``.npz`` files or pytorch-fid's.

    Args:
      path: an ``.npz`` file with arrays ``mu`` and ``sigma``.

    Returns:
      ``(mu, sigma)`` as float64 arrays, ready for :func:`frechet_distance`.
    """
    arrays = _read_npz(path)
    return arrays["mu"].astype(np.float64), arrays["sigma"].astype(np.float64)


def load_stats(path: str | Path) -> FeatureStats:
    """Reads statistics written by :func:`save_stats` (``mu``, ``sigma`` and ``count``).

    Args:
      path: the ``.npz`` file.

    Returns:
      FeatureStats that can be merged or updated further.
    """
    arrays = _read_npz(path)
    if "count" not in arrays:
        raise ValueError(f"{path} has no 'count' (a pytorch-fid file?): use load_moments(path) "
                         "and frechet_distance to compare it; it cannot be updated further.")
    return FeatureStats.from_moments(arrays["mu"], arrays["sigma"], int(arrays["count"]))
