"""Checkpoints through orbax's CheckpointManager, with a safe fall-back on corruption.

A checkpoint is one orbax step folder holding two items:
  ``state``: the whole TrainState (params, optimizer states, model state, EMA, step);
  ``meta``:  JSON with what else resuming needs (seed, data position, genjax version).
"""

from __future__ import annotations

import datetime
import logging
import shutil
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from genjax.core.state import TrainState

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """No usable checkpoint could be restored."""


class Checkpointer:
    """Saves and restores TrainStates under one directory.

    Args:
      directory: the checkpoint folder (created if missing).
      keep: how many of the newest checkpoints to keep.
      async_save: write in a background thread (call ``wait`` or ``close`` before exit).
    """

    def __init__(self, directory: str | Path, keep: int = 3, async_save: bool = True):
        self.directory = Path(directory).absolute()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, create=True, enable_async_checkpointing=async_save
            ),
        )

    def steps(self) -> list[int]:
        """Saved steps, oldest first."""
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def save(self, state: TrainState, meta: dict[str, Any]) -> None:
        """Saves ``state`` under its own step number (a step already saved is left as is)."""
        step = int(jax.device_get(state.step))
        if step in self._manager.all_steps():
            return
        meta = {**meta, "shapes": shape_signature(state)}
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            ),
        )

    def check_compatible(self, template: TrainState, step: int) -> None:
        """Raises CheckpointError if ``step`` holds arrays of other names or shapes.

        Reads only the small JSON item. A readable checkpoint of another model is a user
        error, not corruption: it is never moved aside.
        """
        meta = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        saved = meta["meta"].get("shapes")
        wanted = shape_signature(template)
        if saved is not None and saved != wanted:
            diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} holds a different model than this "
                f"config (e.g. {', '.join(diff[:3])}). Use the config the run was trained "
                "with, or a fresh --workdir."
            )

    def restore(self, template: TrainState, step: int) -> tuple[TrainState, dict[str, Any]]:
        """Restores one step, shaped (and sharded) like ``template``."""
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(template), meta=ocp.args.JsonRestore()
            ),
        )
        meta = dict(restored["meta"])
        meta.pop("shapes", None)
        return restored["state"], meta

    def restore_latest(
        self, template: TrainState, move_corrupt: bool = True
    ) -> tuple[TrainState, dict[str, Any]] | None:
        """Restores the newest readable checkpoint, or returns None when there is none.

        A checkpoint that fails to load (truncated, corrupt) is skipped with a warning and the
        previous one is tried; with ``move_corrupt`` it is also moved aside to
        ``<directory>/../corrupt_checkpoints/`` (never deleted), so a resumed run can save
        that step again.

        Raises:
          CheckpointError: a checkpoint of a different model, or none readable.
        """
        steps = self.steps()
        failures = []
        for step in reversed(steps):
            try:
                metadata_ok = True
                self.check_compatible(template, step)
            except CheckpointError:
                raise
            except Exception:  # unreadable metadata: a damaged folder
                metadata_ok = False
            try:
                if not metadata_ok:
                    raise CheckpointError("its metadata cannot be read")
                return self.restore(template, step)
            except Exception as err:  # orbax raises many types for a damaged folder
                moved = self._move_aside(step) if move_corrupt else "(left in place)"
                failures.append(f"step {step}: {type(err).__name__}: {err}"[:300])
                log.warning(
                    "checkpoint at step %d could not be read (%s: %s); moved it to %s and "
                    "falling back to the previous one",
                    step, type(err).__name__, str(err)[:200], moved,
                )
        if failures:
            raise CheckpointError(
                f"no readable checkpoint in {self.directory} (tried {len(failures)}): "
                + "; ".join(failures)
                + ". Start a new run in a fresh --workdir, or restore the folder from a backup."
            )
        return None

    def _move_aside(self, step: int) -> Path:
        """Moves a damaged step folder out of orbax's sight, keeping its files."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.directory.parent / "corrupt_checkpoints" / f"step_{step}_{stamp}"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.directory / str(step)
        if source.exists():
            shutil.move(str(source), str(target))
        self._manager.reload()
        return target

    def wait(self) -> None:
        """Blocks until pending asynchronous saves are on disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Finishes pending saves and releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()



def shape_signature(state: TrainState) -> dict[str, list[int]]:
    """``{".params['generator']['Dense_0']['kernel']": [2, 16], ...}`` for every array leaf."""
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    return {jax.tree_util.keystr(path): list(leaf.shape) for path, leaf in leaves}
