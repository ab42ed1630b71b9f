"""The image modality: NHWC images in [-1, 1], PNG grids, ``.npz``, FID-family metrics.

Sample quality is judged through feature networks: on MNIST-like data (labelled grayscale
images of at most 32x32, :func:`is_digit_like`) the domain digit classifier that ``genjax
eval`` trains once (``domain_*`` metrics, class shares, KL from uniform); on any images,
when InceptionV3 FID weights are given, the same metrics without prefix, as papers report.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from genjax.core.files import written_atomically
from genjax.data.pipeline import images_to_float, pad_images
from genjax.data.tfds import DatasetSpec
from genjax.metrics.features import FEATURE_METRICS
from genjax.modalities import EvalContext, Modality, Reading, write_npz_rows
from genjax.modalities._features import feature_quality, feature_readings

log = logging.getLogger(__name__)

#: The domain classifier sees every image padded to this size (MNIST 28 -> 32).
DOMAIN_IMAGE_SIZE = 32


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


def save_image(image: np.ndarray, path: str | Path) -> Path:
    """Writes one image in [-1, 1] (HWC) as a PNG of its own size (grayscale for C = 1)."""
    pixels = to_uint8(image)
    if pixels.ndim != 3:
        raise ValueError(f"an image is (H, W, C), got shape {pixels.shape}")
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path, format="PNG")
    return Path(path)


def save_reconstructions(inputs: np.ndarray, reconstructions: np.ndarray,
                         path: str | Path, sources: np.ndarray | None = None) -> Path:
    """Writes a two-row PNG grid: inputs on top, their reconstructions below; with
    ``sources`` (a translation's inputs) three rows: sources, reconstructions (the
    translations), inputs (the targets).

    Args:
      inputs: (N, H, W, C) in [-1, 1].
      reconstructions: the same shape, in [-1, 1].
      path: the .png file to write.
      sources: None, or the same shape, in [-1, 1].

    Returns:
      The path written.
    """
    inputs, reconstructions = np.asarray(inputs), np.asarray(reconstructions)
    if inputs.shape != reconstructions.shape:
        raise ValueError(f"inputs {inputs.shape} and reconstructions {reconstructions.shape} "
                         "must have the same shape")
    rows = [inputs, reconstructions]
    if sources is not None:
        sources = np.asarray(sources)
        if sources.shape != inputs.shape:
            raise ValueError(f"sources {sources.shape} and inputs {inputs.shape} must have "
                             "the same shape")
        rows = [sources, reconstructions, inputs]
    return save_image_grid(np.concatenate(rows), path, columns=len(inputs))


def is_digit_like(spec: DatasetSpec) -> bool:
    """Whether the domain digit classifier applies: labelled grayscale images of at most
    ``DOMAIN_IMAGE_SIZE`` pixels a side."""
    return (spec.shape[-1] == 1 and bool(spec.num_classes)
            and max(spec.shape[:2]) <= DOMAIN_IMAGE_SIZE)


def _write_npz(chunks, num: int, path: Path) -> None:
    """``images``: uint8 (N, H, W, C), written chunk by chunk."""
    write_npz_rows(path, "images", (to_uint8(c) for c in chunks), num)


class ImageModality(Modality):
    """Images (N, H, W, C) in [-1, 1]; see the module docstring."""

    name = "image"
    batch_key = "image"
    metrics = FEATURE_METRICS
    domain_classifier = "classifier_mnist"

    def transform(self, spec, image_size=None):
        return images_to_float(pad_to=image_size)

    def formats(self):
        return {".png": save_image_grid,  # an 8x8-style grid
                ".npz": lambda samples, path: _write_npz([samples], len(samples), path)}

    def streamed_formats(self):
        return {".npz": _write_npz}

    def sample_file(self):
        return ".png", save_image  # at the model's resolution, not a 2x grid

    def write_reconstructions(self, inputs, outputs, stem, sources=None):
        path = stem.with_name(stem.name + ".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_atomically(path) as tmp:  # a symlink planted at path is not followed
            save_reconstructions(inputs, outputs, tmp, sources)
        return path

    def sample_quality(self, spec, samples, test_batches, names, context):
        networks = self._feature_networks(spec, context)
        if not networks:
            log.warning("no feature network for %s: give eval.inception_weights (or "
                        "$GENJAX_INCEPTION_WEIGHTS) for FID/KID/IS; skipping sample metrics",
                        spec.name)
            return {}
        return feature_quality(self, spec, samples, test_batches, names, context, networks)

    def domain_inputs(self, samples, spec, image_size=None):
        samples = np.asarray(samples, np.float32)
        size = image_size or spec.shape[0]
        if samples.ndim != 4 or samples.shape[-1] != spec.shape[-1]:
            raise ValueError(f"the domain network takes (B, H, W, {spec.shape[-1]}) images, "
                             f"got {samples.shape}")
        if max(samples.shape[1:3]) > size:
            raise ValueError(f"the domain network takes images of at most {size}x{size}, got "
                             f"{samples.shape[1]}x{samples.shape[2]}")
        return samples if samples.shape[1:3] == (size, size) else pad_images(samples, size, -1.0)

    def readings(self):
        return image_readings()

    @staticmethod
    def _feature_networks(spec: DatasetSpec, context: EvalContext
                          ) -> dict[str, tuple[Callable, str]]:
        """``name -> (embed, metric prefix)``: the domain classifier on digit-like data,
        InceptionV3 when its weights are given."""
        networks: dict[str, tuple[Callable, str]] = {}
        if is_digit_like(spec) and context.domain_network is not None:
            networks["domain"] = (context.domain_network(), "domain_")
        if context.inception_weights:
            import jax

            from genjax.metrics.inception import make_feature_fn

            inception = make_feature_fn(context.inception_weights)

            def embed(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                out = inception(images)
                return np.asarray(out["pool"]), np.asarray(jax.nn.softmax(out["logits"]))

            networks["inception"] = (embed, "")
        return networks


def image_readings() -> dict[str, Reading]:
    """The readings of the image metrics, for the domain network (``domain_``) and
    InceptionV3 (no prefix)."""
    return feature_readings((("domain_", "digit-classifier"), ("", "InceptionV3")), "images")


MODALITY = ImageModality()
