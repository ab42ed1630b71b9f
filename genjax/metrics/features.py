"""Sample-quality numbers of two sets of network features: FID, KID, IS, PR, DC, classes.

Arrays in, numbers out: a set of images seen through a feature network is accumulated batch
by batch (:class:`Embeddings`, float64 streaming statistics, features kept only when KID or
precision/recall/density/coverage need them) and compared with :func:`feature_metrics`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

#: The feature-based sample metrics, as ``genjax eval --metrics`` names them.
FEATURE_METRICS = ("fid", "kid", "is", "pr", "dc")
#: Those that need every feature, not only the mean and covariance.
NEEDS_FEATURES = ("kid", "pr", "dc")


@dataclasses.dataclass
class Embeddings:
    """Features and class probabilities of one set of images, added batch by batch.

    Attributes:
      keep_features: keep the features themselves (KID, PR, DC need them).
      stats: float64 streaming mean/covariance (``genjax.metrics.FeatureStats``).
    """

    keep_features: bool
    stats: Any = None
    features: list[np.ndarray] = dataclasses.field(default_factory=list)
    probs: list[np.ndarray] = dataclasses.field(default_factory=list)

    def add(self, features: np.ndarray, probs: np.ndarray) -> None:
        """Adds one batch of features (B, F) and class probabilities (B, K)."""
        from genjax.metrics.fid import FeatureStats

        features = np.asarray(features, np.float64)
        self.stats = (FeatureStats.from_features(features) if self.stats is None
                      else self.stats.update(features))
        if self.keep_features:
            self.features.append(features)
        self.probs.append(np.asarray(probs, np.float64))

    def all_features(self) -> np.ndarray:
        return np.concatenate(self.features)

    def all_probs(self) -> np.ndarray:
        return np.concatenate(self.probs)


def feature_metrics(real: Embeddings, fake: Embeddings, names: tuple[str, ...],
                    prefix: str, seed: int) -> dict[str, float]:
    """FID/KID/IS/PR/DC (those in ``names``) of generated against real embeddings, each key
    prefixed with ``prefix``."""
    from genjax import metrics as m

    out: dict[str, float] = {}
    if "fid" in names:
        out["fid"] = m.fid_from_stats(real.stats, fake.stats)
    if "kid" in names:
        out["kid_mean"], out["kid_std"] = m.kid(real.all_features(), fake.all_features(),
                                                seed=seed)
    if "is" in names:
        out["is_mean"], out["is_std"] = m.inception_score(fake.all_probs())
    if "pr" in names:
        out["precision"], out["recall"] = m.precision_recall(real.all_features(),
                                                             fake.all_features())
    if "dc" in names:
        out["density"], out["coverage"] = m.density_coverage(real.all_features(),
                                                             fake.all_features())
    return {f"{prefix}{k}": float(v) for k, v in out.items()}


def class_coverage(probs: np.ndarray, min_share: float = 0.02) -> dict[str, Any]:
    """Class shares of samples, classes with at least ``min_share``, KL from uniform."""
    from genjax.metrics.classes import class_shares, kl_from_uniform

    shares = class_shares(probs)
    return {"class_shares": [round(float(s), 4) for s in shares],
            "classes_covered": int(np.sum(shares >= min_share)),
            "class_kl_uniform": kl_from_uniform(shares)}
