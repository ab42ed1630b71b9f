"""What an objective does so its step gives the same numbers on 1 device and under ``jax.pmap``.

Under ``jax.jit`` (one device, or a device mesh with sharded batches) a step sees the global
batch and needs nothing from here. Under ``jax.pmap`` each device sees its shard of the batch;
an objective with an ``axis_name`` then

* averages gradients over devices before the optimizer update
  (``apply_updates(..., axis_name=...)`` in ``genjax.core.state`` calls ``pmean``),
* computes BatchNorm statistics over the global batch (``nn.BatchNorm(axis_name=...)``),
* draws per-example randomness with ``batch_random``: the global draw, this device's rows,
  so device ``i`` gets exactly the noise rows a single device would give its examples.

With ``axis_name=None`` every function here is the identity of the single-device program.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

PyTree = Any


def pmean(tree: PyTree, axis_name: str | None) -> PyTree:
    """Mean over the devices of ``axis_name``; the identity when ``axis_name`` is None."""
    if axis_name is None:
        return tree
    return jax.lax.pmean(tree, axis_name)


def axis_size(axis_name: str | None) -> int:
    """Number of devices on ``axis_name`` (1 outside pmap)."""
    return 1 if axis_name is None else jax.lax.psum(1, axis_name)


def batch_random(
    draw: Callable[[jax.Array, tuple[int, ...]], jax.Array],
    key: jax.Array,
    shape: Sequence[int],
    axis_name: str | None = None,
) -> jax.Array:
    """Per-example random values for a batch whose first axis may be a device's shard.

    Args:
      draw: ``draw(key, shape) -> array``, e.g. ``jax.random.normal``.
      key: the same key on every device.
      shape: the LOCAL shape; ``shape[0]`` is this device's number of examples.
      axis_name: the pmap axis, or None on one device / under sharded jit.

    Returns:
      ``draw(key, shape)`` on one device. Under pmap: rows ``[i * n, (i + 1) * n)`` of
      ``draw(key, (n * devices,) + shape[1:])`` on device ``i``, i.e. exactly the values a
      single device drawing for the global batch gives these examples.
    """
    shape = tuple(shape)
    if axis_name is None:
        return draw(key, shape)
    n = shape[0]
    full = draw(key, (n * axis_size(axis_name),) + shape[1:])
    return jax.lax.dynamic_slice_in_dim(full, jax.lax.axis_index(axis_name) * n, n, axis=0)
