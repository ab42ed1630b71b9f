"""What an objective does so its step gives the same numbers on 1 device and under ``jax.pmap``.

The convention: a step is written once, for the global batch, and asks :func:`data_axis`
(at trace time) whether it runs inside a map over the device axis ``DATA_AXIS`` (``"data"``).
No objective or module carries an axis name; ``genjax.core.parallel.make_pmap_step`` maps the
step with ``axis_name=DATA_AXIS`` and every helper here picks that up (see
docs/architecture.md).

Under ``jax.jit`` (one device, or a device mesh with sharded batches, ``parallel=sharded``)
the axis is not bound, a step sees the global batch and every function here is the identity
of the single-device program. Under ``jax.pmap(..., axis_name=DATA_AXIS)`` (or a
``shard_map`` over it) each device sees its shard of the batch, and a step

* averages gradients over devices before the optimizer update
  (``genjax.core.state.apply_updates`` calls :func:`pmean`),
* computes BatchNorm statistics over the global batch: a module with BatchNorm passes
  ``nn.BatchNorm(axis_name=data_axis())`` inside its compact ``__call__``,
* draws per-example randomness with :func:`batch_random`: the global draw, this device's
  rows, so device ``i`` gets exactly the noise rows a single device would give its examples,
* sums statistics over the global batch (e.g. the VQ codebook's EMA counts) with
  ``jax.lax.psum(x, axis)`` when ``axis = data_axis()`` is not None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

PyTree = Any

DATA_AXIS = "data"


def data_axis() -> str | None:
    """``DATA_AXIS`` when the current trace maps over it (pmap / shard_map), else None.

    A trace-time check: under plain ``jax.jit`` (one device, or jit over a mesh with sharded
    inputs) the axis is unbound and this returns None.
    """
    try:
        jax.lax.axis_size(DATA_AXIS)
    except NameError:
        return None
    return DATA_AXIS


def pmean(tree: PyTree) -> PyTree:
    """Mean over the devices of the data axis; the identity when it is not bound."""
    axis = data_axis()
    if axis is None:
        return tree
    return jax.lax.pmean(tree, axis)


def axis_size() -> int:
    """Number of devices on the data axis (1 when it is not bound)."""
    axis = data_axis()
    return 1 if axis is None else jax.lax.axis_size(axis)


def device_key(key: jax.Array) -> jax.Array:
    """A key that differs per device under pmap, ``key`` itself otherwise: for randomness
    with no per-example meaning (dropout masks inside a network), where each device's shard
    only needs draws of its own."""
    axis = data_axis()
    return key if axis is None else jax.random.fold_in(key, jax.lax.axis_index(axis))


def batch_random(
    draw: Callable[[jax.Array, tuple[int, ...]], jax.Array],
    key: jax.Array,
    shape: Sequence[int],
) -> jax.Array:
    """Per-example random values for a batch whose first axis may be a device's shard.

    Args:
      draw: ``draw(key, shape) -> array``, e.g. ``jax.random.normal``.
      key: the same key on every device.
      shape: the LOCAL shape; ``shape[0]`` is this device's number of examples.

    Returns:
      ``draw(key, shape)`` on one device or under sharded jit. Under pmap: rows
      ``[i * n, (i + 1) * n)`` of ``draw(key, (n * devices,) + shape[1:])`` on device ``i``,
      i.e. exactly the values a single device drawing for the global batch gives these
      examples.
    """
    shape = tuple(shape)
    axis = data_axis()
    if axis is None:
        return draw(key, shape)
    n = shape[0]
    full = draw(key, (n * axis_size(),) + shape[1:])
    return jax.lax.dynamic_slice_in_dim(full, jax.lax.axis_index(axis) * n, n, axis=0)
