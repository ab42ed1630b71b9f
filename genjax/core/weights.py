"""Converted network weights stored as flat ``.npz`` files, checked against a module's shapes.

The FID Inception port (``genjax.metrics.inception``) and the VGG-19 feature network
(``genjax.nn.vgg``) cache their converted PyTorch weights as ``.npz`` files keyed by the
``/``-joined path of each Flax variable; :func:`checked_variables` reads one back against the
variables the module expects.
"""

from __future__ import annotations

from collections.abc import Mapping

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
