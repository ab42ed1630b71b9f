"""``genjax fid PATH_A PATH_B``: FID between image sets on disk, like pytorch-fid's command.

A set is a folder of ``.png``/``.jpg``/``.jpeg`` images (all the same size), an ``.npz`` with
``images`` (uint8 NHWC, as ``genjax sample --out x.npz`` writes), or an ``.npz`` with
precomputed ``mu`` and ``sigma`` (as ``--save-stats`` writes; pytorch-fid's format).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class EvalInputError(ValueError):
    """An image set that cannot be read; the message says the fix."""


def load_image_set(path: Path, channels: int | None = None) -> np.ndarray | dict:
    """Images (N, H, W, C) uint8 from a folder or an ``.npz``; or ``{"mu", "sigma"}`` stats.

    Args:
      path: a folder of images or an ``.npz`` file.
      channels: convert folder images to 1 (grayscale) or 3 (RGB); None keeps 1 or 3 as stored.

    Raises:
      EvalInputError: missing path, empty folder, mixed sizes, unknown .npz contents.
    """
    from PIL import Image

    path = Path(path)
    if not path.exists():
        raise EvalInputError(f"{path} does not exist; give a folder of images or an .npz file")
    if path.is_file():
        if path.suffix != ".npz":
            raise EvalInputError(f"{path} is not an .npz file or a folder of images")
        with np.load(path) as data:
            if "mu" in data and "sigma" in data:
                return {name: data[name] for name in ("mu", "sigma", "count") if name in data}
            if "images" not in data:
                raise EvalInputError(f"{path} holds {', '.join(data.files) or 'nothing'}; expected "
                                     "'images' (uint8 NHWC) or 'mu' and 'sigma' statistics")
            images = data["images"]
        if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3):
            raise EvalInputError(f"{path}: 'images' must be uint8 (N, H, W, 1|3), got "
                                 f"{images.dtype} {images.shape}")
        return images
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise EvalInputError(f"{path} holds no .png/.jpg images")
    images = []
    for f in files:
        with Image.open(f) as img:
            mode = {1: "L", 3: "RGB"}.get(channels) or ("L" if img.mode in ("L", "1") else "RGB")
            arr = np.asarray(img.convert(mode))
        images.append(arr[..., None] if arr.ndim == 2 else arr)
    shapes = {a.shape for a in images}
    if len(shapes) > 1:
        raise EvalInputError(f"{path} holds images of different sizes {sorted(shapes)[:3]}; "
                             "resize them to one size first")
    return np.stack(images)


def _to_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1)


def fid_between(path_a: Path, path_b: Path, *, network: str = "inception",
                inception_weights: str = "", classifier_dir: str | None = None,
                batch_size: int = 50, save_stats: str | None = None) -> dict:
    """FID between two image sets through InceptionV3 pool3 or a domain digit classifier.

    Returns:
      ``{"fid", "network", "count_a", "count_b"}`` (counts are None for precomputed stats).

    Raises:
      EvalInputError: unreadable sets, a missing classifier, bad sizes.
    """
    from genjax import metrics as geval

    if batch_size < 1:
        raise EvalInputError(f"--batch-size must be >= 1, got {batch_size}")
    if network == "domain":
        if not classifier_dir:
            raise EvalInputError("--network domain needs --classifier RUN_DIR (a "
                                 "`genjax train classifier_mnist` run folder)")
        from genjax.app.domain import load_domain_network

        domain = load_domain_network(Path(classifier_dir))
        embed, channels = (lambda x: domain(x)[0]), 1
    else:
        from genjax.metrics.inception import make_feature_fn

        inception = make_feature_fn(inception_weights or None)
        embed, channels = (lambda x: np.asarray(inception(x)["pool"])), None

    stats, counts = [], []
    for path in (path_a, path_b):
        data = load_image_set(path, channels)
        if isinstance(data, dict):  # precomputed; pytorch-fid's files have no count
            stats.append(data)
            counts.append(int(data["count"]) if "count" in data else None)
            continue
        if network == "domain" and data.shape[-1] != 1:
            raise EvalInputError(f"{path}: the domain network takes grayscale images, got "
                                 f"{data.shape[-1]} channels")
        acc = geval.stats_from_batches(
            embed, (_to_float(data[i:i + batch_size]) for i in range(0, len(data), batch_size)))
        stats.append({"mu": acc.mean, "sigma": acc.cov()})
        counts.append(len(data))
        if save_stats and path == path_a:
            geval.save_stats(save_stats, acc)
    fid = geval.frechet_distance(stats[0]["mu"], stats[0]["sigma"],
                                 stats[1]["mu"], stats[1]["sigma"])
    return {"fid": float(fid), "network": network, "count_a": counts[0], "count_b": counts[1]}
