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
from typing import Any

import numpy as np
from PIL import Image

from genjax.core.files import written_atomically
from genjax.data.pipeline import images_to_float
from genjax.data.tfds import DatasetSpec
from genjax.metrics.features import (
    FEATURE_METRICS,
    NEEDS_FEATURES,
    Embeddings,
    class_coverage,
    feature_metrics,
)
from genjax.modalities import (
    Caveat,
    EvalContext,
    Modality,
    Reading,
    sample_chunks,
    write_npz_rows,
)

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


def floor_rows(size: int, count: int) -> np.ndarray:
    """``count`` distinct row indices evenly spaced over ``range(size)``, ascending (all of
    them when ``count >= size``)."""
    if count >= size:
        return np.arange(size)
    return (np.arange(count) * size) // count


class ImageModality(Modality):
    """Images (N, H, W, C) in [-1, 1]; see the module docstring."""

    name = "image"
    batch_key = "image"
    metrics = FEATURE_METRICS

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
        keep = any(n in names for n in NEEDS_FEATURES)
        real = {name: Embeddings(keep) for name in networks}
        for batch in test_batches(context.batch_size):
            for name, (net, _) in networks.items():
                real[name].add(*net(batch[self.batch_key]))
        fake = {name: Embeddings(keep) for name in networks}
        for images in sample_chunks(samples, context.num_samples, context.batch_size):
            for name, (net, _) in networks.items():
                fake[name].add(*net(images))
        floor = self._floor_embeddings(spec, networks, keep, context)
        out: dict[str, Any] = {}
        for name, (net, prefix) in networks.items():
            out.update(feature_metrics(real[name], fake[name], names, prefix, context.seed))
            if floor:
                out.update({f"{k}_floor": v for k, v in feature_metrics(
                    real[name], floor[name], names, prefix, context.seed).items()})
            if name == "domain":
                out.update(class_coverage(fake[name].all_probs()))
                out["domain_classifier"] = str(net.run_dir)
                out["domain_classifier_test_accuracy"] = net.test_accuracy
        return out

    def _floor_embeddings(self, spec: DatasetSpec, networks: dict, keep: bool,
                          context: EvalContext) -> dict[str, Embeddings]:
        """``num_samples`` train images (all of them, if fewer), evenly spaced over the
        split, through each network: scored against the test split like samples, they give
        the real-vs-real floor at the same sample count (what a generator of real digits
        would get). Evenly spaced, not the first ones: a split stored class by class
        (``mnist_subset``) would otherwise give a floor of two or three classes."""
        if context.train_records is None:
            return {}
        from genjax.data.pipeline import read_records, stack_records

        source = context.train_records()
        count = min(context.num_samples, len(source))
        spread = floor_rows(len(source), count)
        transform = self.transform(spec)
        take = getattr(source, "take", None)
        out = {name: Embeddings(keep) for name in networks}
        for start in range(0, count, context.batch_size):
            rows = spread[start:start + context.batch_size]
            batch = transform(take(rows) if take is not None
                              else stack_records(read_records(source, rows)))
            for name, (net, _) in networks.items():
                out[name].add(*net(batch[self.batch_key]))
        return out

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


#: Precision at or above this with recall below ``BLURRY_RECALL``: the blurry-means pattern.
BLURRY_PRECISION, BLURRY_RECALL = 0.95, 0.6
#: Sample counts below this give a visibly biased FID (papers use 10,000 - 50,000).
FID_SAMPLES = 10_000


def _blurry(prefix: str) -> Caveat:
    def applies(r):
        p, rec = r.get(f"{prefix}precision"), r.get(f"{prefix}recall")
        return (isinstance(p, float) and p >= BLURRY_PRECISION
                and (not isinstance(rec, float) or rec < BLURRY_RECALL))

    return Caveat(applies, f"{prefix}precision is near 1 but {prefix}recall is low: samples "
                  "sit inside the real manifold without covering it (typical of a VAE's "
                  "blurry means); read precision together with recall and coverage")


def _few_samples(prefix: str) -> Caveat:
    return Caveat(lambda r: 0 < r.get("num_samples", FID_SAMPLES) < FID_SAMPLES,
                  f"{prefix}fid from fewer than {FID_SAMPLES:,} samples is biased upward (the "
                  "bias shrinks like 1/N): compare runs only at the same --num-samples, "
                  f"with the floor beside it; {prefix}kid is unbiased")


def image_readings() -> dict[str, Reading]:
    """The readings of the image metrics, for the domain network (``domain_``) and
    InceptionV3 (no prefix)."""
    floor = ("the same metric of real train images against the test split is its floor; "
             "eval computes it when the train split is readable (<name>_floor)")
    out: dict[str, Reading] = {}
    for prefix, net in (("domain_", "digit-classifier"), ("", "InceptionV3")):
        out.update({
            f"{prefix}fid": Reading(f"Frechet distance, sample vs test {net} features as Gaussians",
                                    "lower, down to the floor", floor,
                                    (_few_samples(prefix),)),
            f"{prefix}kid_mean": Reading(f"kernel (MMD) distance, sample vs test {net} features",
                                         "lower, down to the floor", floor),
            f"{prefix}kid_std": Reading("spread of kid over its subsets", ""),
            f"{prefix}is_mean": Reading("Inception score: confident and varied class "
                                        "predictions", "higher"),
            f"{prefix}is_std": Reading("spread of the Inception score over its splits", ""),
            f"{prefix}precision": Reading("share of samples inside the real manifold (kNN)",
                                          "higher", floor, (_blurry(prefix),)),
            f"{prefix}recall": Reading("share of the real manifold the samples reach (kNN)",
                                       "higher", floor),
            f"{prefix}density": Reading("how many real neighbourhoods hold each sample "
                                        "(about 1 for real data)", "closer to the floor",
                                        floor),
            f"{prefix}coverage": Reading("share of real neighbourhoods holding a sample",
                                         "higher", floor),
        })
    out["classes_covered"] = Reading("digit classes with at least 2% of the samples",
                                     "higher (all classes)")
    out["class_kl_uniform"] = Reading("KL of the samples' class shares from uniform "
                                      "(mode dropping)", "lower")
    out["domain_classifier_test_accuracy"] = Reading(
        "accuracy of the evaluation network on the test split (how far to trust domain_*)",
        "higher", caveats=(Caveat(
            lambda r: r.get("domain_classifier_test_accuracy", 1.0) < 0.9,
            "the evaluation network is weak (test accuracy < 0.9): domain_* numbers are "
            "noisy; retrain it (delete its cache folder) or give eval.classifier_dir"),))
    return out


MODALITY = ImageModality()
