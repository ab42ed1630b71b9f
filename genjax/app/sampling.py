"""Drawing many samples from an objective in fixed-size jitted chunks."""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

from genjax.core.objective import Objective
from genjax.core.state import TrainState

CHUNK = 256


def draw_samples(objective: Objective, state: TrainState, key: jax.Array, num: int,
                 chunk: int = CHUNK, options: dict[str, Any] | None = None) -> np.ndarray:
    """``num`` samples as a host array; chunk ``i`` uses ``fold_in(key, i)``.

    Args:
      objective: the family's objective.
      state: the trained state.
      key: the sampling key.
      num: how many samples.
      chunk: samples per device call (one compiled shape).
      options: keyword options of ``objective.sample`` (``label``, ``sampler``, ...), fixed at
        compile time; the objective declares them (``capabilities.sample_options``).

    Returns:
      NumPy array, images (num, H, W, C) in [-1, 1] or points (num, 2).
    """
    fn = jax.jit(functools.partial(objective.sample, **(options or {})), static_argnums=2)
    size = min(chunk, num)
    parts = [np.asarray(fn(state, jax.random.fold_in(key, i), size))
             for i in range(-(-num // size))]
    return np.concatenate(parts)[:num]
