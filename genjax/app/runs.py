"""Run folders written by ``genjax train``: their saved config and latest state."""

from __future__ import annotations

from pathlib import Path

import ml_collections


class WorkdirError(RuntimeError):
    """The workdir cannot be used; the message says the fix."""


def read_saved_config(workdir: Path):
    """The resolved config a run saved in ``workdir/config.json``."""
    from genjax import config as gconfig

    path = workdir / "config.json"
    if not path.exists():
        raise WorkdirError(f"{workdir} has no config.json: it is not a run folder written by "
                           "`genjax train` (check the path)")
    try:
        return gconfig.from_json(path.read_text())
    except ValueError as err:
        raise WorkdirError(f"{path} is not valid JSON ({err}); fix or move it") from err


def load_run(workdir: Path, config=None):
    """The config, experiment and latest state of a finished or running training run.

    Args:
      workdir: the run folder.
      config: the run's config with ``eval.*`` changes (default: the saved one as it is).
        Its ``parallel`` mode is replaced by ``single``: what loads a run samples or
        evaluates on one device (the state is the same in every mode).

    Returns:
      ``(config, experiment, state)``.

    Raises:
      WorkdirError: not a run folder, or no checkpoint yet.
    """
    from genjax.app.experiment import build
    from genjax.core.checkpoint import Checkpointer
    from genjax.core.loop import init_state

    workdir = Path(workdir)
    config = read_saved_config(workdir) if config is None else config
    if config.get("parallel", "single") != "single":  # sampling and evaluation run unmapped
        config = ml_collections.ConfigDict(config.to_dict())
        config.parallel = "single"
    experiment = build(config, with_eval=False)
    checkpointer = Checkpointer(workdir / "checkpoints", keep=config.train.keep_checkpoints,
                                async_save=False)
    try:
        template = init_state(experiment.objective, experiment.train_batches, config.seed)
        restored = checkpointer.restore_latest(template, move_corrupt=False)
    finally:
        checkpointer.close()
    if restored is None:
        raise WorkdirError(f"{workdir / 'checkpoints'} holds no checkpoint yet; train first")
    return config, experiment, restored[0]
