"""Paired images for image-to-image translation, built offline from any image dataset.

A :class:`Pairing` adds a *source* image to every batch under its own key (``"source"``),
computed from the batch's (already transformed) images, so a translation model learns
``source -> image``:

* ``edges``: the Sobel gradient magnitude of the image (:func:`sobel_magnitude`, on the image
  mapped to [0, 1], divided by :data:`EDGE_SCALE` and clipped to 1), mapped back to [-1, 1]:
  edge maps -> digits.
* ``inpaint``: the image with one square of ``hole`` pixels a side set to
  :data:`HOLE_VALUE` (mid-grey in [-1, 1]): masked -> complete digits.

The pairing is a pure function of the batch, its source rows and its epoch (the mask's
corner is drawn by ``np.random.default_rng([seed, epoch, row])``), so batch ``i`` of a
resumed run is batch ``i`` of a straight one, and a held-out split (epoch 0) gets the same
masks in every evaluation. ``genjax.data.Batches(pairing=...)`` applies it after the
modality's transform.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genjax.data.tfds import DatasetError

#: The kinds of pairing.
PAIRINGS = ("edges", "inpaint")
#: The batch key of the source image.
SOURCE_KEY = "source"
#: Sobel magnitude of a unit step edge (1 + 2 + 1): edge maps are ``min(|grad| / 4, 1)``.
EDGE_SCALE = 4.0
#: What an inpainting source holds inside its hole (mid-grey in [-1, 1]).
HOLE_VALUE = 0.0


def sobel_magnitude(images: np.ndarray) -> np.ndarray:
    """The Sobel gradient magnitude ``sqrt(gx^2 + gy^2)`` of each channel, in float64.

    ``gx`` differentiates along the width ``[-1, 0, 1]`` and smooths along the height
    ``[1, 2, 1]`` (``gy`` the other way round); borders are mirrored (``d c b a | a b c d``),
    as ``scipy.ndimage.sobel``'s default ``mode='reflect'``.

    Args:
      images: ``(..., H, W, C)``, any real dtype.

    Returns:
      ``(..., H, W, C)`` float64.
    """
    x = np.asarray(images, np.float64)
    if x.ndim < 3:
        raise DatasetError(f"sobel_magnitude needs (..., H, W, C) images, got shape {x.shape}")
    p = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(1, 1), (1, 1), (0, 0)], mode="symmetric")
    rows = p[..., :-2, :, :] + 2.0 * p[..., 1:-1, :, :] + p[..., 2:, :, :]  # smooth along H
    gx = rows[..., :, 2:, :] - rows[..., :, :-2, :]
    cols = p[..., :, :-2, :] + 2.0 * p[..., :, 1:-1, :] + p[..., :, 2:, :]  # smooth along W
    gy = cols[..., 2:, :, :] - cols[..., :-2, :, :]
    return np.hypot(gx, gy)


def edge_maps(images: np.ndarray) -> np.ndarray:
    """Edge maps in [-1, 1] of images in [-1, 1]: ``2 min(|sobel((x + 1) / 2)| / 4, 1) - 1``."""
    unit = (np.asarray(images, np.float64) + 1.0) / 2.0
    return (2.0 * np.minimum(sobel_magnitude(unit) / EDGE_SCALE, 1.0) - 1.0).astype(np.float32)


def hole_corners(seed: int, epoch: int, rows: np.ndarray, size: tuple[int, int],
                 hole: int) -> np.ndarray:
    """The top-left corners ``(len(rows), 2)`` of each row's square hole.

    Row ``r`` draws ``(top, left)`` uniformly from ``[m, S - hole - m]`` on each axis, with
    ``m = (S - hole) // 4`` (the hole stays near the centre, where the digit is), from
    ``np.random.default_rng([seed, epoch, r])``.
    """
    corners = np.empty((len(rows), 2), np.int64)
    for i, row in enumerate(np.asarray(rows)):
        rng = np.random.default_rng([seed, epoch, int(row)])
        for axis, extent in enumerate(size):
            margin = (extent - hole) // 4
            corners[i, axis] = rng.integers(margin, extent - hole - margin, endpoint=True)
    return corners


def hole_masks(seed: int, epoch: int, rows: np.ndarray, size: tuple[int, int],
               hole: int) -> np.ndarray:
    """Boolean masks ``(len(rows), H, W, 1)``, True inside each row's hole
    (:func:`hole_corners`)."""
    h, w = size
    corners = hole_corners(seed, epoch, rows, size, hole)
    ys, xs = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    top, left = corners[:, 0, None, None], corners[:, 1, None, None]
    inside = (ys >= top) & (ys < top + hole) & (xs >= left) & (xs < left + hole)
    return inside[..., None]


@dataclasses.dataclass(frozen=True)
class Pairing:
    """Adds ``batch[key]``, the source image of ``batch[field]`` (see the module docstring).

    Attributes:
      kind: ``"edges"`` or ``"inpaint"``.
      seed: seeds the holes (the run's seed).
      hole: the side of an inpainting hole, in pixels (of the transformed, padded image).
      field: the batch key of the images (the modality's batch key).
      key: the batch key the source is written to.
    """

    kind: str
    seed: int = 0
    hole: int = 12
    field: str = "image"
    key: str = SOURCE_KEY

    def __post_init__(self):
        if self.kind not in PAIRINGS:
            raise DatasetError(f"unknown pairing {self.kind!r}; choose one of "
                               f"{', '.join(PAIRINGS)}")
        if self.seed < 0:
            raise DatasetError(f"the pairing seed must be >= 0, got {self.seed}")
        if self.hole < 1:
            raise DatasetError(f"the inpainting hole must be at least 1 pixel, got {self.hole}")

    def __call__(self, batch: dict[str, np.ndarray], rows: np.ndarray,
                 epoch: int = 0) -> dict[str, np.ndarray]:
        """``batch`` plus its sources.

        Args:
          batch: transformed examples; ``batch[field]`` is ``(B, H, W, C)`` in [-1, 1].
          rows: the source row of each example, ``(B,)``.
          epoch: the epoch the batch belongs to (0 for held-out splits).

        Raises:
          DatasetError: no image field, or a hole larger than the images.
        """
        images = batch.get(self.field)
        if images is None or np.ndim(images) != 4:
            shapes = {k: np.shape(v) for k, v in batch.items()}
            raise DatasetError(f"a {self.kind!r} pairing needs (B, H, W, C) images under "
                               f"{self.field!r}, got {shapes}; use an image dataset")
        images = np.asarray(images)
        if len(rows) != len(images):
            raise DatasetError(f"{len(rows)} rows for a batch of {len(images)} images")
        if self.kind == "edges":
            source = edge_maps(images)
        else:
            size = images.shape[1:3]
            if self.hole > min(size):
                raise DatasetError(f"an inpainting hole of {self.hole} pixels does not fit "
                                   f"{size[0]}x{size[1]} images; use a smaller data.mask_size")
            mask = hole_masks(self.seed, epoch, rows, size, self.hole)
            source = np.where(mask, np.float32(HOLE_VALUE), images).astype(np.float32)
        return {**batch, self.key: source}
