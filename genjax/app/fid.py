"""``genjax fid PATH_A PATH_B``: FID between image sets on disk, like pytorch-fid's command.

A set is a folder of ``.png``/``.jpg``/``.jpeg`` images (all the same size), an ``.npz`` with
``images`` (uint8 NHWC, as ``genjax sample --out x.npz`` writes), or an ``.npz`` with
precomputed ``mu`` and ``sigma`` (as ``--save-stats`` writes; pytorch-fid's format).
"""

from __future__ import annotations

import zipfile
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
        return _check_set(path, _load_npz(path))
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise EvalInputError(f"{path} holds no .png/.jpg images")
    images = []
    for f in files:
        try:
            with Image.open(f) as img:
                mode = ({1: "L", 3: "RGB"}.get(channels)
                        or ("L" if img.mode in ("L", "1") else "RGB"))
                arr = np.asarray(img.convert(mode))
        except Image.DecompressionBombError as err:
            raise EvalInputError(f"{f} is too large to read ({err}); resize it first") from err
        except (OSError, ValueError, SyntaxError) as err:  # PIL's unreadable / truncated file
            raise EvalInputError(f"{f} is not a readable image ({err}); remove or replace "
                                 "it") from err
        images.append(arr[..., None] if arr.ndim == 2 else arr)
    shapes = {a.shape for a in images}
    if len(shapes) > 1:
        raise EvalInputError(f"{path} holds images of different sizes {sorted(shapes)[:3]}; "
                             "resize them to one size first")
    return _check_set(path, np.stack(images))


def _load_npz(path: Path) -> np.ndarray | dict:
    """The ``images`` or ``mu``/``sigma`` of an ``.npz`` (never unpickling anything)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if "mu" in data and "sigma" in data:
                return {name: data[name] for name in ("mu", "sigma", "count") if name in data}
            if "images" not in data:
                raise EvalInputError(f"{path} holds {', '.join(data.files) or 'nothing'}; "
                                     "expected 'images' (uint8 NHWC) or 'mu' and 'sigma' "
                                     "statistics")
            return data["images"]
    except EvalInputError:
        raise
    except ValueError as err:  # object arrays (pickles) are refused by allow_pickle=False
        raise EvalInputError(f"{path} holds arrays genjax will not read ({err}); write "
                             "uint8 'images' or float 'mu'/'sigma' arrays") from err
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise EvalInputError(f"{path} is not a readable .npz file ({err}); write it again "
                             "(e.g. genjax sample --out x.npz)") from err


def _check_set(path: Path, data: np.ndarray | dict) -> np.ndarray | dict:
    """Refuses what FID cannot be computed from: wrong types or shapes, fewer than 2 images
    (a covariance needs 2)."""
    if isinstance(data, dict):
        mu, sigma = np.asarray(data["mu"]), np.asarray(data["sigma"])
        if (mu.ndim != 1 or sigma.shape != (mu.size, mu.size)
                or not np.issubdtype(mu.dtype, np.floating)
                or not np.issubdtype(sigma.dtype, np.floating)):
            raise EvalInputError(f"{path}: 'mu' must be a float vector (D,) and 'sigma' a "
                                 f"float (D, D) matrix, got {mu.dtype} {mu.shape} and "
                                 f"{sigma.dtype} {sigma.shape}")
        return data
    if data.ndim != 4 or data.dtype != np.uint8 or data.shape[-1] not in (1, 3):
        raise EvalInputError(f"{path}: 'images' must be uint8 (N, H, W, 1|3), got "
                             f"{data.dtype} {data.shape}")
    if len(data) < 2:
        raise EvalInputError(f"{path} holds {len(data)} image(s); FID needs at least 2 per "
                             "set (thousands for a meaningful number)")
    return data


def _to_float(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1)


def fid_between(path_a: Path, path_b: Path, *, network: str = "inception",
                inception_weights: str = "", classifier_dir: str | None = None,
                batch_size: int = 50, save_stats: str | None = None,
                domain_dataset: str = "mnist_subset") -> dict:
    """FID between two image sets through InceptionV3 pool3 or a domain digit classifier.

    Two sets of precomputed statistics need no network at all (no weights are read).

    Args:
      path_a, path_b: the two sets (see ``load_image_set``).
      network: ``"inception"`` or ``"domain"``.
      inception_weights: the InceptionV3 weights file ("" -> ``$GENJAX_INCEPTION_WEIGHTS``).
      classifier_dir: the domain network's classifier run folder; None or "" -> the one
        ``genjax eval`` trains (once, cached) on ``domain_dataset``.
      batch_size: images per network call.
      save_stats: also write the statistics of ``path_a`` to this ``.npz``.
      domain_dataset: the dataset the default domain classifier is trained on.

    Returns:
      ``{"fid", "network", "count_a", "count_b"}`` (counts are None for precomputed stats).

    Raises:
      EvalInputError: unreadable sets, a missing classifier, bad sizes.
    """
    from genjax import metrics as geval

    if batch_size < 1:
        raise EvalInputError(f"--batch-size must be >= 1, got {batch_size}")
    channels = 1 if network == "domain" else None
    # both sets are read and checked before the (slow) feature network loads
    sets = [load_image_set(path, channels) for path in (path_a, path_b)]
    sizes = [d["mu"].size for d in sets if isinstance(d, dict)]
    if len(sizes) == 2 and sizes[0] != sizes[1]:
        raise EvalInputError(f"{path_a} and {path_b} hold statistics of different sizes "
                             f"({sizes[0]} and {sizes[1]}); compute both with the same network")
    embed = None
    if any(not isinstance(d, dict) for d in sets):
        if network == "domain":
            from genjax.app.domain import domain_classifier_dir, load_domain_network

            domain = load_domain_network(domain_classifier_dir(domain_dataset,
                                                               classifier_dir=classifier_dir or ""))
            embed = lambda x: domain(x)[0]  # noqa: E731
        else:
            from genjax.metrics.inception import make_feature_fn

            inception = make_feature_fn(inception_weights or None)
            embed = lambda x: np.asarray(inception(x)["pool"])  # noqa: E731

    stats, counts = [], []
    for path, data in zip((path_a, path_b), sets, strict=True):
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
    if stats[0]["mu"].shape != stats[1]["mu"].shape:  # features against saved statistics
        raise EvalInputError(f"{path_a} and {path_b} give statistics of different sizes "
                             f"({stats[0]['mu'].shape[0]} and {stats[1]['mu'].shape[0]}); "
                             "compute both with the same --network")
    fid = geval.frechet_distance(stats[0]["mu"], stats[0]["sigma"],
                                 stats[1]["mu"], stats[1]["sigma"])
    return {"fid": float(fid), "network": network, "count_a": counts[0], "count_b": counts[1]}
