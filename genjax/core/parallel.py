"""Data parallelism: the same step on one device, under ``jax.pmap``, or jitted over a mesh.

Three modes (``--config.parallel``), one meaning of the batch size (the GLOBAL batch):

* ``single``: ``genjax.core.step.make_train_step``, one device.
* ``pmap``: :func:`make_pmap_step`. The global batch ``(B, ...)`` is split into
  ``(devices, B / devices, ...)`` and the step is mapped with ``axis_name=DATA_AXIS``; the
  objective's helpers see that axis bound (``genjax.core.collectives.data_axis``) and average
  gradients and BatchNorm statistics over devices and draw per-example noise as on one
  device; metrics are averaged over devices.
* ``sharded``: :func:`make_sharded_step`. ``jax.jit`` over a 1-D ``Mesh`` with axis
  ``"data"``: the batch is split over ``data``, the state replicated and donated, explicit
  in/out shardings; XLA inserts the reductions, and the data axis is not bound in the trace,
  so the objective runs as on one device. Across hosts each process passes its own rows of
  the global batch (``jax.make_array_from_process_local_data``).

Where replication happens: inside the step. Every mode takes an ordinary state (a fresh or
restored one lives on one device) and returns the state replicated over its devices, as
ordinary ``jax.Array`` values with a replicated ``NamedSharding`` (no leading device axis).
The loop and the checkpoints never see a per-device copy: a checkpoint holds the same arrays
whatever the mode or device count, so it resumes under any of them. ``process_local`` gives
this process's copy of a replicated state (sampling and evaluation run on one device, and
only on the processes that call them).

K steps per call (``lax.scan``) work in every mode: ``batch`` then has a leading K axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from genjax.core.collectives import DATA_AXIS
from genjax.core.objective import Batch, Objective
from genjax.core.step import StepFn, k_steps, make_train_step
from genjax.core.xla import xla_cpu_compiler_options

PyTree = Any

PARALLEL_MODES = ("single", "pmap", "sharded")


class ParallelError(ValueError):
    """A batch or objective that cannot run in the requested parallel mode."""


def data_mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh over ``devices`` (default: all devices of all processes) with axis ``data``.

    Devices are ordered by process, so process ``p``'s rows of the global batch (its data
    shard, see ``genjax.data.Batches``) land on its own devices.
    """
    if devices is None:
        devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return Mesh(np.array(devices), (DATA_AXIS,))


def check_divisible(batch_size: int, devices: int) -> None:
    """Raises ParallelError unless the global batch splits evenly over ``devices``."""
    if batch_size % devices:
        raise ParallelError(
            f"the global batch size {batch_size} does not split over {devices} devices; "
            f"set train.batch_size to a multiple of {devices} (e.g. "
            f"{max(devices, batch_size // devices * devices)})")


def replicate(tree: PyTree, sharding: NamedSharding) -> PyTree:
    """Every leaf of ``tree`` on every device of ``sharding`` (a replicated sharding).

    Leaves already placed so are returned as they are (no copy). Across processes the value
    comes from this process's copy, which must be the same on every process.

    Args:
      tree: arrays (device or host).
      sharding: a fully replicated ``NamedSharding``.

    Returns:
      The tree as global, replicated ``jax.Array`` leaves.
    """

    def put(x):
        if isinstance(x, jax.Array) and x.sharding.is_equivalent_to(sharding, x.ndim):
            return x
        if sharding.is_fully_addressable:
            return jax.device_put(x, sharding)
        return jax.make_array_from_process_local_data(sharding, np.asarray(process_local(x)))

    return jax.tree.map(put, tree)


def process_local(tree: PyTree) -> PyTree:
    """This process's copy of a replicated state, on one of its devices (no copy made).

    Sampling and evaluation then run on one device, and across hosts only on the processes
    that call them. Leaves that are not replicated jax.Arrays are returned unchanged.
    """

    def local(x):
        if (isinstance(x, jax.Array) and len(x.sharding.device_set) > 1
                and x.sharding.is_fully_replicated):
            return x.addressable_data(0)
        return x

    return jax.tree.map(local, tree)


def _rows(batch: Batch, axis: int) -> int:
    sizes = {np.shape(x)[axis] for x in jax.tree.leaves(batch)}
    if len(sizes) != 1:
        raise ParallelError(f"batch fields have different numbers of examples: {sorted(sizes)}")
    return sizes.pop()


def _split_devices(x: Any, devices: int, axis: int) -> Any:
    """``(..., B, ...)`` -> ``(..., devices, B / devices, ...)`` at ``axis``."""
    shape = np.shape(x)
    new = shape[:axis] + (devices, shape[axis] // devices) + shape[axis + 1:]
    return x.reshape(new)


def make_pmap_step(
    objective: Objective,
    *,
    steps_per_call: int = 1,
    unroll: bool | int = True,
    donate: bool = True,
    devices: list[jax.Device] | None = None,
) -> StepFn:
    """``step(state, batch, base_key) -> (state, metrics)`` under ``jax.pmap``.

    The state goes in and out unmapped (``in_axes=None``, ``out_axes=None``): jax's pmap
    (``jit(shard_map)`` since 0.8) keeps it replicated over the devices between calls, with
    no leading device axis and no ``device_put_replicated``. The batch is mapped: this
    process's rows ``(B_local, ...)`` become ``(local devices, B_local / devices, ...)``.
    The map's axis is ``DATA_AXIS``, so inside the step ``genjax.core.collectives.data_axis``
    returns it: gradients, BatchNorm statistics and per-example draws follow the global batch.
    Metrics are ``pmean``-ed over it, so they are the global-batch means.

    Args:
      objective: the family's objective (nothing to set for pmap).
      steps_per_call: K > 1 scans K steps per call (batch ``(K, B, ...)``).
      unroll: ``lax.scan``'s unroll.
      donate: donate the input state.
      devices: the devices to map over (default: all).

    Returns:
      The step; the same numbers as ``make_train_step`` up to float32 reduction order.

    Raises:
      ParallelError: the batch does not split over the devices.
    """
    inner = k_steps(objective, steps_per_call, unroll)

    def fn(state, batch, base_key):
        state, metrics = inner(state, batch, base_key)
        return state, jax.lax.pmean(metrics, DATA_AXIS)

    batch_axis = 0 if steps_per_call == 1 else 1
    pmapped = jax.pmap(fn, axis_name=DATA_AXIS, in_axes=(None, batch_axis, None),
                       out_axes=(None, None), donate_argnums=(0,) if donate else (),
                       devices=devices)
    n = len(devices) if devices is not None else jax.local_device_count()
    # pmap's own placement of the state: replicated over its devices. Placing a fresh
    # (one-device) state there first keeps the first and later calls one compiled program.
    replicated = NamedSharding(data_mesh(devices), P())

    def step(state, batch, base_key):
        check_divisible(_rows(batch, batch_axis), n)
        return pmapped(replicate(state, replicated),
                       jax.tree.map(lambda x: _split_devices(x, n, batch_axis), batch),
                       replicate(base_key, replicated))

    return step


def make_sharded_step(
    objective: Objective,
    *,
    steps_per_call: int = 1,
    unroll: bool | int = True,
    donate: bool = True,
    mesh: Mesh | None = None,
) -> StepFn:
    """``step(state, batch, base_key) -> (state, metrics)``: ``jax.jit`` over a device mesh.

    In shardings: state and key replicated, batch split over the mesh's ``data`` axis (axis
    0, or axis 1 of a ``(K, B, ...)`` stack). Out shardings: state and metrics replicated.
    The state is donated. ``batch`` holds this process's rows of the global batch (all of
    them on one host); across hosts the step assembles the global batch with
    ``jax.make_array_from_process_local_data``.

    Args:
      objective: the family's objective (XLA partitions its batch reductions).
      steps_per_call: K > 1 scans K steps per call.
      unroll: ``lax.scan``'s unroll.
      donate: donate the input state.
      mesh: a mesh with a ``data`` axis (default ``data_mesh()``, every device).

    Returns:
      The step; the same numbers as ``make_train_step`` up to float32 reduction order.

    Raises:
      ParallelError: the global batch does not split over the mesh.
    """
    mesh = data_mesh() if mesh is None else mesh
    replicated = NamedSharding(mesh, P())
    batch_axis = 0 if steps_per_call == 1 else 1
    data = NamedSharding(mesh, P(*([None] * batch_axis), DATA_AXIS))
    jitted = jax.jit(k_steps(objective, steps_per_call, unroll),
                     in_shardings=(replicated, data, replicated),
                     out_shardings=(replicated, replicated),
                     donate_argnums=(0,) if donate else (),
                     compiler_options=xla_cpu_compiler_options() or None)
    procs = jax.process_count()

    def put_batch(x):
        if isinstance(x, jax.Array) and x.sharding.is_equivalent_to(data, x.ndim):
            return x
        if data.is_fully_addressable:
            return jax.device_put(x, data)
        return jax.make_array_from_process_local_data(data, np.asarray(x))

    def step(state, batch, base_key):
        check_divisible(_rows(batch, batch_axis) * procs, mesh.size)
        return jitted(replicate(state, replicated), jax.tree.map(put_batch, batch),
                      replicate(base_key, replicated))

    return step


def step_factory(parallel: str) -> Callable[..., StepFn]:
    """The step builder of a parallel mode, called as ``factory(objective, steps_per_call=K)``.

    Raises:
      ParallelError: an unknown mode.
    """
    factories = {"single": make_train_step, "pmap": make_pmap_step,
                 "sharded": make_sharded_step}
    if parallel not in factories:
        raise ParallelError(f"unknown parallel mode {parallel!r}; choose one of "
                            f"{', '.join(PARALLEL_MODES)}")
    return factories[parallel]

