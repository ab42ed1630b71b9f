"""Several hosts training one model: ``jax.distributed.initialize`` from config or environment.

Every host runs the same ``genjax train`` command; they differ only in their process id.
After initialization ``jax.devices()`` lists the devices of all hosts, each host reads its
own shard of every global batch (``genjax.data.Batches(shard_index=process_index,
shard_count=process_count)``), the sharded step assembles the global batch
(``genjax.core.parallel``), only process 0 writes logs, samples and plots, and every process
takes part in orbax's checkpoint writes (orbax coordinates them; replicated arrays are written
once).

What JAX 0.10 reads by itself: ``JAX_COORDINATOR_ADDRESS`` (and ``JAX_COORDINATOR_PORT``,
``JAX_LOCAL_DEVICE_IDS``), and, with auto-detection, the process count and id of SLURM,
Open MPI, Kubernetes (JobSet) and Cloud TPU environments. On CPU, cross-process collectives
use gloo (``jax_cpu_collectives_implementation``, JAX's default).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import jax


@dataclasses.dataclass(frozen=True)
class DistributedSettings:
    """How this process joins a multi-host run (``config.distributed``).

    Attributes:
      coordinator: ``host:port`` of process 0 ("" -> ``$JAX_COORDINATOR_ADDRESS``).
      num_processes: number of processes (0 -> from the cluster environment).
      process_id: this process's id in ``[0, num_processes)`` (-1 -> from the environment).
      auto_detect: let JAX detect the cluster (SLURM, Open MPI, Kubernetes, Cloud TPU).
    """

    coordinator: str = ""
    num_processes: int = 0
    process_id: int = -1
    auto_detect: bool = False

    def requested(self, environ: Mapping[str, str] = os.environ) -> bool:
        """Whether these settings (or the environment) ask for a multi-host run."""
        return bool(self.coordinator or environ.get("JAX_COORDINATOR_ADDRESS")
                    or self.auto_detect or self.num_processes > 1)


def initialize(settings: DistributedSettings,
               environ: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """Joins the multi-host run the settings describe; a no-op for a single-host run.

    Must run before anything else touches JAX's devices.

    Args:
      settings: the coordinator, process count and id (or auto-detection).
      environ: the environment (``JAX_COORDINATOR_ADDRESS``).

    Returns:
      ``(process_index, process_count)``.

    Raises:
      ValueError: settings that cannot describe a run (the message says which key to set).
    """
    if not settings.requested(environ):
        return 0, 1
    if jax.distributed.is_initialized():
        return jax.process_index(), jax.process_count()
    num = settings.num_processes or None
    pid = settings.process_id if settings.process_id >= 0 else None
    coordinator = settings.coordinator or environ.get("JAX_COORDINATOR_ADDRESS") or None
    if not settings.auto_detect:
        missing = [name for name, value in (("distributed.coordinator", coordinator),
                                            ("distributed.num_processes", num),
                                            ("distributed.process_id", pid)) if value is None]
        if missing:
            raise ValueError(
                f"a multi-host run needs {', '.join(missing)}: pass --config.{missing[0]}=... "
                "on every host (the coordinator is process 0's host:port; ids 0..N-1), or "
                "--config.distributed.auto_detect=True under SLURM, Open MPI, Kubernetes or "
                "Cloud TPU")
        if not 0 <= pid < num:
            raise ValueError(f"distributed.process_id must be in [0, {num}); got {pid}")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num,
                               process_id=pid)
    return jax.process_index(), jax.process_count()
