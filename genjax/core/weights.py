"""Converted network weights stored as flat ``.npz`` files, checked against a module's shapes.

The FID Inception port (``genjax.metrics.inception``) and the VGG-19 feature network
(``genjax.nn.vgg``) cache their converted PyTorch weights as ``.npz`` files keyed by the
``/``-joined path of each Flax variable; :func:`checked_variables` reads one back against the
variables the module expects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def checked_variables(arrays: Mapping[str, np.ndarray],
                      shapes: Mapping[tuple[str, ...], tuple[int, ...]]
                      ) -> tuple[dict[tuple[str, ...], np.ndarray], list[str]]:
    """The arrays of ``shapes``' variables (float32), and what is wrong with the file.

    Args:
      arrays: ``"a/b/kernel" -> array`` as stored (other keys are reported as unexpected).
      shapes: ``("a", "b", "kernel") -> shape`` the module expects.

    Returns:
      ``(flat, problems)``: the variables found with their expected shape, by path tuple,
      and one line per missing, misshapen or unexpected array (empty when the file fits).
    """
    left = dict(arrays)
    flat, problems = {}, []
    for key, shape in shapes.items():
        value = left.pop("/".join(key), None)
        if value is None or value.shape != tuple(shape):
            got = "missing" if value is None else f"shape {value.shape}"
            problems.append(f"{'/'.join(key)}: {got}, expected {tuple(shape)}")
            continue
        flat[key] = np.asarray(value).astype(np.float32, copy=False)
    problems += [f"unexpected {k}" for k in sorted(left)]
    return flat, problems


def cache_file(weights: str | os.PathLike, folder: Path, format_version: int) -> Path:
    """Where the converted ``.npz`` of a weights file is cached: ``folder /
    '<stem>-<size>-<mtime_ns>-v<format>.npz'`` (a changed file, or a new conversion format,
    gets a new name)."""
    weights = Path(weights)
    stat = weights.stat()
    return folder / f"{weights.stem}-{stat.st_size}-{stat.st_mtime_ns}-v{format_version}.npz"


def read_torch_state_dict(path: Path, error: type[Exception], cache: Path,
                          original: str) -> Mapping[str, Any]:
    """A PyTorch state dict read with ``torch.load(weights_only=True)`` on the CPU.

    Args:
      path: the ``.pth`` file.
      error: the exception type to raise (the network's weights error).
      cache: the folder converted files are cached in (named in the message).
      original: ``"<file name> from <url>"``, named when the file is damaged.

    Raises:
      error: torch is not installed, or the file is no state dict torch can read.
    """
    try:
        import torch
    except ImportError as exc:
        raise error(
            f"reading {path} (a PyTorch state dict) the first time needs torch, which is not "
            f"installed: pip install torch==2.13.0 (CPU build), or genjax[bench]. After one "
            f"conversion the cached .npz in {cache} is used without torch; you can also pass "
            "a converted .npz directly") from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors vary by torch version
        raise error(f"could not read {path} as a PyTorch state dict ({type(exc).__name__}: "
                    f"{exc}); re-download {original}") from exc
