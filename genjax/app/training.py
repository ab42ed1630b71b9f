"""Training a config into a run folder: what ``genjax train`` and ``genjax.train`` share.

:func:`train_run` holds the folder's lock, checks a resumed run's config, builds the
experiment, joins the hosts of a multi-host run (``jax.distributed``), writes ``config.json``
once the checkpoints restored, and runs :func:`genjax.core.loop.train`.
:func:`configure_jax` is the process-wide JAX set-up of the ``genjax`` program and of the
Python API. Nothing here imports JAX at import time.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from pathlib import Path

from genjax.core.files import WorkdirError

__all__ = ["check_writable", "configure_jax", "join_hosts", "saved_family", "sync_hosts",
           "train_run"]


def configure_jax() -> None:
    """Process-wide JAX settings of the ``genjax`` program (the library itself sets none).

    * ``jax_threefry_partitionable=False``: the partitionable threefry compiles ~5x slower on
      XLA:CPU (4.4 s against 0.8 s for one ``jax.random.normal``). Random values stay the same
      on any number of devices either way; only the bit-generation scheme differs.
    * A persistent compilation cache (``$JAX_COMPILATION_CACHE_DIR``, default
      ``~/.cache/genjax/jax``): resuming or sampling a run does not compile the same step again.
    """
    import jax

    if "JAX_THREEFRY_PARTITIONABLE" not in os.environ:
        jax.config.update("jax_threefry_partitionable", False)
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        jax.config.update("jax_compilation_cache_dir",
                          str(Path.home() / ".cache" / "genjax" / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def check_writable(workdir: Path) -> None:
    """Creates ``workdir`` if needed and checks that a file can be written in it."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / f".write_test_{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise WorkdirError(
            f"workdir {workdir} is not writable ({err.strerror}); choose another --workdir"
        ) from err


def train_run(config, workdir: Path, *, name: str, allow_config_change: bool = False,
              restart_from_scratch: bool = False) -> None:
    """Trains a loaded config into ``workdir``: ``genjax train`` and ``genjax.train``.

    Resumes from the folder's latest checkpoint (a finished run trains nothing); refuses a
    config that conflicts with the folder's run unless ``allow_config_change``;
    ``restart_from_scratch`` moves the folder's run aside first. One trainer at a time holds
    the folder (``train.lock``); a folder this call created and left empty is removed.

    Args:
      config: the run's ``ConfigDict`` (a former family name's is migrated first).
      workdir: the run folder.
      name: the config's name, shown in the progress lines.
      allow_config_change: resume even if model/data/optimizer keys differ.
      restart_from_scratch: start again from step 0 (old files moved, never deleted).

    Raises:
      genjax.config.ConfigError: a config that cannot train here or conflicts with the run.
      genjax.core.files.WorkdirError: a folder that cannot be used (the message says why).
    """
    from genjax import config as gconfig
    from genjax.app.experiment import upgrade
    from genjax.core.files import WorkdirLock, WorkdirLockedError

    config = upgrade(config)  # a config of a former family name, in its family's schema
    gconfig.check_seed(config.seed)
    process, processes = join_hosts(config)  # before anything touches the devices
    created = not workdir.exists()
    check_writable(workdir)
    # one trainer per workdir; the other hosts of a multi-host run share the main one's
    lock = WorkdirLock(workdir) if process == 0 else contextlib.nullcontext()
    try:
        with lock:
            _train_locked(config, workdir, process, processes, name=name,
                          allow_config_change=allow_config_change,
                          restart_from_scratch=restart_from_scratch)
    except WorkdirLockedError as err:
        raise WorkdirError(str(err)) from err
    except OSError as err:  # a run file (metrics, samples, config) could not be written
        if created:
            _remove_if_unused(workdir)
        raise WorkdirError(
            f"could not write {err.filename or workdir} ({err.strerror or err}); the "
            "checkpoints already saved are kept. Free space or fix the permissions, then "
            "re-run the same command to resume") from err
    except BaseException:
        if created:
            _remove_if_unused(workdir)
        raise


def _remove_if_unused(workdir: Path) -> None:
    """Removes a workdir this command created when a refusal left nothing in it but the
    lock file (never a folder that holds anything else)."""
    try:
        if {p.name for p in workdir.iterdir()} <= {"train.lock"}:
            (workdir / "train.lock").unlink(missing_ok=True)
            workdir.rmdir()
    except OSError:
        pass


def _train_locked(config, workdir: Path, process: int, processes: int, *, name: str,
                  allow_config_change: bool, restart_from_scratch: bool) -> None:
    """:func:`train_run` once the workdir's lock is held."""
    from genjax import config as gconfig
    from genjax.app.experiment import (
        archive_run,
        build,
        read_modality_files,
        resume_conflicts,
        write_modality_files,
    )
    from genjax.core.checkpoint import NoUsableCheckpointError
    from genjax.core.files import remove_stale_temps, write_atomic
    from genjax.core.loop import stop_on_signals, train

    main_process = process == 0
    saved_path = workdir / "config.json"
    conflicts = []
    if saved_path.exists() and not restart_from_scratch:
        conflicts = resume_conflicts(workdir, config)
        if conflicts and not allow_config_change:
            raise gconfig.ConfigError(
                f"{workdir} holds a run with a different config ("
                + "; ".join(conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
                + "). Use a new --workdir, or pass --allow-config-change to continue anyway."
            )
    # bad data or shapes fail here, before anything is written; each host reads its own shard
    # a resumed run reads its data as it was trained (its saved tokenizer, if any)
    saved = {} if restart_from_scratch else read_modality_files(workdir)
    experiment = build(config, shard_index=process, shard_count=processes, modality_files=saved)
    sync_hosts("genjax-config-checked", processes)  # every host read config.json first
    if restart_from_scratch:
        archive = archive_run(workdir) if main_process else None
        if archive is not None:
            print(f"genjax: moved the previous run's files to {archive}", flush=True)
        sync_hosts("genjax-run-archived", processes)

    def write_config(start_step: int) -> None:
        """Once the checkpoints (if any) restored into this model: a config that cannot
        resume them never replaces the one they were trained with; a finished run (at or past
        ``train.steps``) trains nothing, so its config.json stays as it was trained."""
        if not main_process:
            return
        finished = start_step >= config.train.steps
        started.append(start_step)
        if finished:
            print(f"genjax: {workdir} is already trained to step {start_step} (train.steps "
                  f"is {config.train.steps}); nothing to train. Pass "
                  f"--config.train.steps=N with N > {start_step} to train further", flush=True)
        else:
            print(f"genjax: training {name} ({config.family} on {config.data.name}, "
                  f"parallel={experiment.config.get('parallel', 'single')}{hosts}) "
                  + (f"from step {start_step} " if start_step else "")
                  + f"to step {config.train.steps} in {workdir}", flush=True)
        remove_stale_temps(saved_path)  # of a run killed while writing it (the lock is ours)
        if finished and saved_path.exists():
            return
        if saved_path.exists() and (conflicts or saved_family(saved_path) != config.family):
            # a changed config, or one migrated from a former family name: keep the original
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            write_atomic(workdir / f"config.before-{stamp}.json", saved_path.read_bytes())
        write_atomic(saved_path, gconfig.to_json(config) + "\n")
        write_modality_files(workdir, experiment.modality)

    hosts = f", {processes} hosts" if processes > 1 else ""
    started: list[int] = []  # the step the run starts at, once the checkpoints restored
    try:
        with stop_on_signals() as stop:
            train(experiment.objective, experiment.train_batches, workdir,
                  experiment.settings, config.seed, eval_batches=experiment.eval_batches,
                  is_main_process=main_process, make_step=experiment.make_step,
                  writer=experiment.modality, stop=stop, on_start=write_config)
    except NoUsableCheckpointError as err:
        raise WorkdirError(
            f"{err.problem}. Restore the checkpoints from a backup, or re-run with "
            "--restart-from-scratch to train again from step 0 (the old checkpoints, "
            "metrics and samples are moved aside, never deleted)") from err
    if main_process and started and started[0] < config.train.steps:
        print(f"genjax: done; samples in {workdir / 'samples'}, metrics in "
              f"{workdir / 'metrics.jsonl'}", flush=True)


def saved_family(path: Path) -> str:
    """The ``family`` exactly as a saved ``config.json`` names it (before any migration)."""
    return json.loads(path.read_text()).get("family", "")


def join_hosts(config) -> tuple[int, int]:
    """Initializes ``jax.distributed`` from ``config.distributed`` / the environment.

    Returns:
      ``(process_index, process_count)``; ``(0, 1)`` for a single-host run.
    """
    from genjax.config import ConfigError
    from genjax.core.distributed import DistributedSettings, initialize

    d = config.get("distributed", None)
    settings = DistributedSettings() if d is None else DistributedSettings(
        coordinator=d.coordinator, num_processes=d.num_processes, process_id=d.process_id,
        auto_detect=d.auto_detect)
    try:
        return initialize(settings)
    except ValueError as err:
        raise ConfigError(str(err)) from err


def sync_hosts(name: str, processes: int) -> None:
    """Waits for every host of a multi-host run at the barrier ``name``."""
    if processes > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
