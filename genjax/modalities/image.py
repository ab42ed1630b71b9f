"""Image grids and scatter plots of samples, written as PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Maps images in [-1, 1] to uint8 in [0, 255] (rounded, clipped).

    Args:
      images: float array in [-1, 1], any shape.

    Returns:
      uint8 array of the same shape.
    """
    x = (np.asarray(images, np.float32) + 1.0) * 127.5
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, columns: int | None = None, padding: int = 2) -> np.ndarray:
    """Tiles NHWC uint8 images into one HWC image, row by row, on a black background.

    Args:
      images: (N, H, W, C) uint8 with C in {1, 3}.
      columns: images per row (default: ceil(sqrt(N))).
      padding: pixels between tiles.

    Returns:
      (rows*(H+p)+p, cols*(W+p)+p, C) uint8.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"make_grid expects (N, H, W, 1|3) images, got shape {images.shape}")
    n, h, w, c = images.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c), np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + k * (w + padding)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def save_image_grid(images: np.ndarray, path: str | Path, columns: int | None = None) -> Path:
    """Writes images in [-1, 1] (NHWC) as a PNG grid, 2x upscaled for small images.

    Args:
      images: float (N, H, W, C) in [-1, 1].
      path: the .png file to write (parents are created).
      columns: images per row.

    Returns:
      The path written.
    """
    grid = make_grid(to_uint8(images), columns)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if grid.shape[0] < 400:
        img = img.resize((img.width * 2, img.height * 2), Image.NEAREST)
    img.save(path)
    return path


def save_points_plot(
    points: np.ndarray, path: str | Path, reference: np.ndarray | None = None
) -> Path:
    """Writes a scatter plot of 2D samples (and optional reference points, e.g. modes) as PNG.

    Args:
      points: (N, 2) samples.
      path: the .png file to write.
      reference: optional (M, 2) points drawn as red crosses.

    Returns:
      The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    pts = np.asarray(points)
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5)
    if reference is not None:
        ref = np.asarray(reference)
        ax.scatter(ref[:, 0], ref[:, 1], marker="x", c="red", s=30)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_reconstructions(inputs: np.ndarray, reconstructions: np.ndarray,
                         path: str | Path) -> Path:
    """Writes a two-row PNG grid: inputs on top, their reconstructions below.

    Args:
      inputs: (N, H, W, C) in [-1, 1].
      reconstructions: the same shape, in [-1, 1].
      path: the .png file to write.

    Returns:
      The path written.
    """
    inputs, reconstructions = np.asarray(inputs), np.asarray(reconstructions)
    if inputs.shape != reconstructions.shape:
        raise ValueError(f"inputs {inputs.shape} and reconstructions {reconstructions.shape} "
                         "must have the same shape")
    return save_image_grid(np.concatenate([inputs, reconstructions]), path,
                           columns=len(inputs))


def save_samples(samples: np.ndarray, path: str | Path) -> Path:
    """Writes samples as a PNG: an image grid for NHWC arrays, a scatter plot for (N, 2) points."""
    samples = np.asarray(samples)
    if samples.ndim == 2 and samples.shape[1] == 2:
        return save_points_plot(samples, path)
    return save_image_grid(samples, path)
