"""Mode coverage of 2D samples from a Gaussian mixture (the PacGAN / VEEGAN protocol).

Each sample is assigned to its nearest mode (Euclidean; the mixtures are
isotropic with one shared std). It is *high quality* when that distance is
strictly below ``num_std`` (3) standard deviations. A mode is *captured* when
at least one high-quality sample is assigned to it.

Reverse KL, as PacGAN (Lin et al. 2018) reports it: the high-quality samples'
histogram over modes, normalised to a distribution ``p`` (samples that are not
high quality are left out), against the true, uniform mode distribution:
``KL(p || uniform) = sum_i p_i log(M p_i)`` in nats, with ``0 log 0 = 0``. It is
0 when high-quality samples are spread evenly, ``log(M / c)`` when they are
spread evenly over only ``c`` modes. (PacGAN's released 2D code logs the same
histogram's entropy and JSD to uniform; reverse KL = log M - entropy.) With no
high-quality sample the histogram is undefined and reverse KL is NaN.

Use with :func:`genjax.data.toy2d.mixture`::

    result = mode_coverage(samples, *mixture("toy2d_grid"))
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from genjax.metrics.classes import kl_from_uniform


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """Mode-coverage scores of one set of samples.

    Attributes:
      modes: number of captured modes.
      num_modes: number of modes in the mixture.
      high_quality: share of samples within ``num_std`` std of their nearest mode.
      reverse_kl: KL(high-quality histogram over modes || uniform), nats (NaN if none).
      counts: (num_modes,) int64 high-quality samples per mode.
    """

    modes: int
    num_modes: int
    high_quality: float
    reverse_kl: float
    counts: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready scalars (and the per-mode counts as a list)."""
        return {"modes": self.modes, "num_modes": self.num_modes,
                "high_quality": self.high_quality, "reverse_kl": self.reverse_kl,
                "counts": self.counts.tolist()}


def mode_coverage(samples: Any, means: Any, std: float, num_std: float = 3.0) -> ModeCoverage:
    """Scores 2D samples against an isotropic Gaussian mixture with equally likely modes.

    Args:
      samples: (N, 2) generated points.
      means: (M, 2) mode centres (e.g. from ``genjax.data.toy2d.mixture``).
      std: the modes' shared standard deviation.
      num_std: high-quality threshold in standard deviations (3, as PacGAN).

    Returns:
      A :class:`ModeCoverage`.
    """
    x = np.asarray(samples, np.float64)
    mu = np.asarray(means, np.float64)
    if x.ndim != 2 or mu.ndim != 2 or x.shape[1] != mu.shape[1]:
        raise ValueError(f"Expected samples (N, D) and means (M, D) of one D, got {x.shape} and "
                         f"{mu.shape}.")
    if x.shape[0] == 0:
        raise ValueError("mode_coverage got no samples.")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}.")
    d2 = np.sum((x[:, None, :] - mu[None, :, :]) ** 2, axis=-1)  # (N, M)
    nearest = np.argmin(d2, axis=1)
    hq = np.sqrt(d2[np.arange(len(x)), nearest]) < num_std * std
    counts = np.bincount(nearest[hq], minlength=len(mu)).astype(np.int64)
    total = counts.sum()
    reverse_kl = kl_from_uniform(counts / total) if total else float("nan")
    return ModeCoverage(modes=int(np.count_nonzero(counts)), num_modes=len(mu),
                        high_quality=float(hq.mean()), reverse_kl=reverse_kl, counts=counts)
