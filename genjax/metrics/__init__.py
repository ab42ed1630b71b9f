"""Evaluation of generative models: FID, KID, IS, precision/recall, density/coverage, modes.

* FID: :func:`frechet_distance`, :func:`fid_from_features`, :func:`fid_from_stats`,
  :class:`FeatureStats`, :func:`stats_from_batches`, :func:`save_stats`,
  :func:`load_stats`, :func:`load_moments` (``genjax.metrics.fid``).
* :func:`kid` (``genjax.metrics.kid``), :func:`inception_score`
  (``genjax.metrics.inception_score``).
* :func:`precision_recall`, :func:`density_coverage`, :func:`prdc` (``genjax.metrics.prdc``).
* :func:`mode_coverage`, :class:`ModeCoverage` (``genjax.metrics.coverage``).

These are imported eagerly (NumPy and JAX only; nothing heavier such as torch or
network weights). Eagerly, because three functions share their module's name
(``kid``, ``prdc``, ``inception_score``): binding the functions here, before any
submodule import, keeps ``genjax.metrics.kid`` the function however imports are ordered.
"""

from genjax.metrics.coverage import ModeCoverage, mode_coverage
from genjax.metrics.fid import (
    FeatureStats,
    fid_from_features,
    fid_from_stats,
    frechet_distance,
    load_moments,
    load_stats,
    save_stats,
    stats_from_batches,
)
from genjax.metrics.inception_score import inception_score
from genjax.metrics.kid import kid
from genjax.metrics.prdc import density_coverage, prdc, precision_recall

__all__ = [
    "FeatureStats",
    "ModeCoverage",
    "density_coverage",
    "fid_from_features",
    "fid_from_stats",
    "frechet_distance",
    "inception_score",
    "kid",
    "load_moments",
    "load_stats",
    "mode_coverage",
    "prdc",
    "precision_recall",
    "save_stats",
    "stats_from_batches",
]
