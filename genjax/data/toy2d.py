"""2D Gaussian mixtures used to measure mode collapse (PacGAN / VEEGAN protocol).

* ``toy2d_ring``: 8 components at ``(cos 2 pi i / 8, sin 2 pi i / 8)``, std 0.01.
* ``toy2d_grid``: 25 components at ``{-4, -2, 0, 2, 4}^2``, std 0.05.

Components are equally likely. Everything here is pure numpy so evaluation code
(mode coverage, high-quality fraction, reverse KL) can use the same definition
as the dataset builder.
"""

from __future__ import annotations

import numpy as np

MIXTURES: tuple[str, ...] = ("toy2d_ring", "toy2d_grid")

#: Seeds of the stored splits: ``sample_mixture(name, n, SPLIT_SEEDS[split])``.
SPLIT_SEEDS: dict[str, int] = {"train": 0, "test": 1}

#: Number of points in each stored split.
SPLIT_SIZES: dict[str, int] = {"train": 100_000, "test": 10_000}

_RING_MODES = 8
_RING_STD = 0.01
_GRID_COORDS = (-4.0, -2.0, 0.0, 2.0, 4.0)
_GRID_STD = 0.05


def _ring_means() -> np.ndarray:
    angles = 2.0 * np.pi * np.arange(_RING_MODES) / _RING_MODES
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid_means() -> np.ndarray:
    coords = np.asarray(_GRID_COORDS)
    xs, ys = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def mixture(name: str) -> tuple[np.ndarray, float]:
    """The definition of a named 2D Gaussian mixture.

    Args:
      name: ``"toy2d_ring"`` or ``"toy2d_grid"``.

    Returns:
      ``(means, std)``: float64 array of shape ``(M, 2)`` with the component
      means (component ``i`` is row ``i``; for the grid, row ``5 * a + b`` is
      ``(coords[a], coords[b])``), and the isotropic standard deviation shared
      by all components.

    Raises:
      ValueError: if ``name`` is not a known mixture.
    """
    if name == "toy2d_ring":
        return _ring_means(), _RING_STD
    if name == "toy2d_grid":
        return _grid_means(), _GRID_STD
    raise ValueError(f"Unknown 2D mixture {name!r}; known mixtures: {', '.join(MIXTURES)}.")


def sample_mixture(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws points from a named mixture, deterministically.

    Component labels are drawn uniformly, then ``point = mean[label] + std * eps``
    with ``eps ~ N(0, I2)``, both from ``np.random.default_rng(seed)`` (labels
    first, then the noise).

    Args:
      name: ``"toy2d_ring"`` or ``"toy2d_grid"``.
      n: number of points.
      seed: integer seed.

    Returns:
      ``(points, labels)``: float32 ``(n, 2)`` and int64 ``(n,)`` (the index of
      the component each point was drawn from).
    """
    means, std = mixture(name)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(means), size=n, dtype=np.int64)
    noise = rng.standard_normal((n, 2))
    points = means[labels] + std * noise
    return points.astype(np.float32), labels
