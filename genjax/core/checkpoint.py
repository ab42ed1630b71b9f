"""Checkpoints through orbax's CheckpointManager, with a safe fall-back on corruption.

A checkpoint is one orbax step folder holding two items:
  ``state``: the whole TrainState (params, optimizer states, model state, EMA, step);
  ``meta``:  JSON with what else resuming needs (seed, data position, genjax version).
Once orbax has finished writing it, the step folder also gets ``genjax_sha256.json``, the
sha256 of every file of both items, checked before the step is restored.

Restoring tells corruption from everything else. A damaged checkpoint (a file missing or
garbled, a checksum that does not match) is moved aside to ``corrupt_checkpoints/`` (never
deleted) and the previous one is tried. Anything else -- a checkpoint of another model, out
of memory, an I/O error of the filesystem -- raises :class:`CheckpointError` naming the
problem and moves nothing. When no usable checkpoint is left but some were quarantined,
:class:`NoUsableCheckpointError` is raised instead of starting again from step 0.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any, NoReturn

import jax
import orbax.checkpoint as ocp

from genjax.core.files import write_atomic
from genjax.core.state import TrainState

log = logging.getLogger(__name__)

MANIFEST = "genjax_sha256.json"  # in each step folder, beside orbax's items
QUARANTINE = "corrupt_checkpoints"  # beside the checkpoint folder
_ITEMS = ("state", "meta")
_COMMIT_FILE = "commit_success.txt"  # orbax writes it into a step folder once it is complete


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message names the problem and the fix."""


class CheckpointSaveError(CheckpointError):
    """A checkpoint could not be written (disk full, permissions, I/O); the checkpoints
    already on disk are untouched."""


class NoUsableCheckpointError(CheckpointError):
    """Checkpoints were written (and some quarantined as corrupt), but none is usable.

    Attributes:
      problem: what was found (the message without the fix).
      quarantined: the folders in ``corrupt_checkpoints/``.
    """

    def __init__(self, problem: str, quarantined: list[Path]):
        super().__init__(f"{problem}. Restore the checkpoints from a backup, or start the run "
                         "again from step 0 with the old files moved aside.")
        self.problem, self.quarantined = problem, quarantined


class _Corrupt(Exception):
    """Internal: this step's files are damaged (the message says how)."""


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
        self._unsealed: list[int] = []  # saved by this process, manifest not yet written
        self._failed = False  # a save failed with a write error (already raised)
        self._quiet = contextlib.ExitStack()  # until close: orbax's echoes of our errors
        self._quiet.enter_context(quiet_reported_write_failures())

    @property
    def quarantine(self) -> Path:
        """Where damaged step folders are moved (``<directory>/../corrupt_checkpoints``)."""
        return self.directory.parent / QUARANTINE

    def quarantined(self) -> list[Path]:
        """The step folders moved to the quarantine, oldest name first."""
        if not self.quarantine.is_dir():
            return []
        return sorted(p for p in self.quarantine.iterdir() if p.is_dir())

    def steps(self) -> list[int]:
        """Saved steps, oldest first."""
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def save(self, state: TrainState, meta: dict[str, Any]) -> None:
        """Saves ``state`` under its own step number (a step already saved is left as is).

        With ``async_save`` the files are written in the background; the step's checksum
        manifest is written once they are complete (at the next ``save``, ``wait`` or
        ``close``).
        """
        step = int(jax.device_get(state.step))
        if step in self._manager.all_steps():
            return
        self._finish_saves()  # orbax's save would wait for it anyway
        self._seal()
        meta = {**meta, "shapes": shape_signature(state)}
        with self._writing(step):
            self._manager.save(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
                ),
            )
        self._unsealed.append(step)

    @contextlib.contextmanager
    def _writing(self, step: int | None):
        """Turns a failed write (disk full, permissions, I/O; orbax and tensorstore wrap
        them in other exceptions) into one CheckpointSaveError naming the fix."""
        try:
            yield
        except CheckpointError:
            raise
        except Exception as err:
            problem = write_problem(err)
            if problem is None:
                raise
            self._failed = True
            kept = [s for s in self._manager.all_steps() if s != step]
            what = f"checkpoint step {step}" if step is not None else "a checkpoint"
            raise CheckpointSaveError(
                f"could not write {what} in {self.directory} ({problem}); the checkpoints "
                f"already saved are kept (latest: step {max(kept) if kept else 'none'}). "
                "Free space or fix the folder's permissions, then re-run the same command "
                "to resume.") from err

    def _finish_saves(self) -> None:
        """Waits for the background saves; their write errors as CheckpointSaveError."""
        pending = self._unsealed[-1] if self._unsealed else None
        with self._writing(pending):
            try:
                self._manager.wait_until_finished()
            except Exception:
                self._unsealed = [s for s in self._unsealed if s != pending]
                raise

    def seal_finished(self) -> None:
        """Writes the manifests of the background saves that have completed, without
        waiting (the loop calls it at every boundary, so a kill soon after a save still
        leaves that checkpoint verifiable)."""
        done = [s for s in self._unsealed
                if (self.directory / str(s) / _COMMIT_FILE).exists()]
        if done:
            self._unsealed = [s for s in self._unsealed if s not in done]
            self._write_manifests(done)

    def _seal(self) -> None:
        """Writes the manifests of all saves (call once orbax has finished them)."""
        steps, self._unsealed = self._unsealed, []
        self._write_manifests(steps)

    def _write_manifests(self, steps: list[int]) -> None:
        if jax.process_index() != 0:  # one writer; the files of every process are in place
            return
        for step in steps:
            folder = self.directory / str(step)
            if not folder.is_dir():  # already rotated out by max_to_keep
                continue
            try:
                write_manifest(folder)
            except FileNotFoundError:  # rotated out by max_to_keep while being read
                continue
            except OSError as err:  # the checkpoint stays usable, only unverified
                log.warning("could not write the checksum manifest of %s (%s); it will load "
                            "unverified", folder, err)

    def check_compatible(self, template: TrainState, step: int) -> None:
        """Raises CheckpointError if ``step`` holds arrays of other names or shapes.

        Reads only orbax's array metadata. A readable checkpoint of another model is a user
        error, not corruption: it is never moved aside.
        """
        handler = ocp.StandardCheckpointHandler()
        try:
            saved = _signature(handler.metadata(self.directory / str(step) / "state"))
        finally:
            handler.close()
        wanted = _signature(template)
        if saved != wanted:
            diff = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            shown = ", ".join(f"{k} (saved {_shape(saved.get(k))}, this config "
                              f"{_shape(wanted.get(k))})" for k in diff[:3])
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} holds a different model than this "
                f"config ({len(diff)} arrays differ, e.g. {shown}). Nothing was moved. Use "
                "the config the run was trained with, or a fresh --workdir."
            )

    def restore(self, template: TrainState, step: int) -> tuple[TrainState, dict[str, Any]]:
        """Restores one step, shaped (and sharded) like ``template`` (no checks)."""
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(template), meta=ocp.args.JsonRestore()
            ),
        )
        meta = dict(restored["meta"])
        meta.pop("shapes", None)
        return restored["state"], meta

    def _restore_checked(self, template: TrainState, step: int
                         ) -> tuple[TrainState, dict[str, Any]]:
        """Restores one step after checking its checksums and its shapes against ``template``.

        Raises:
          CheckpointError: another model, out of memory or an I/O error (nothing moved).
          _Corrupt: the step's files are damaged.
        """
        folder = self.directory / str(step)
        try:
            verified = verify_manifest(folder)
        except _Corrupt:
            raise
        except Exception as err:  # e.g. no permission to read the files
            _raise_unless_corrupt(err, folder, False, "its files")
        try:
            self.check_compatible(template, step)
        except CheckpointError:
            raise
        except Exception as err:
            _raise_unless_corrupt(err, folder, verified, "its array metadata")
        try:
            return self.restore(template, step)
        except Exception as err:
            _raise_unless_corrupt(err, folder, verified, "its data")

    def restore_latest(
        self, template: TrainState, move_corrupt: bool = True
    ) -> tuple[TrainState, dict[str, Any]] | None:
        """Restores the newest usable checkpoint, or returns None when none was ever saved.

        A damaged checkpoint (files missing or garbled, checksums that do not match) is
        skipped with a warning and the previous one is tried; with ``move_corrupt`` it is also
        moved aside to ``<directory>/../corrupt_checkpoints/`` (never deleted), so a resumed
        run can save that step again.

        Raises:
          CheckpointError: a checkpoint of a different model, out of memory, or an I/O error
            (nothing is moved; the message names the fix).
          NoUsableCheckpointError: no usable checkpoint, but damaged ones were found now or
            quarantined before: starting again from step 0 would silently discard the run.
        """
        failures = []
        for step in reversed(self.steps()):
            try:
                return self._restore_checked(template, step)
            except _Corrupt as err:
                moved = self._move_aside(step) if move_corrupt else "(left in place)"
                failures.append(f"step {step}: {err}"[:300])
                log.warning("checkpoint at step %d could not be read: %s; moved it to %s and "
                            "falling back to the previous one", step, str(err)[:200], moved)
        quarantined = self.quarantined()
        if failures or quarantined:
            found = (f"{len(failures)} damaged ({'; '.join(failures)})" if failures
                     else "none left")
            where = (f"; {len(quarantined)} quarantined in {self.quarantine}"
                     if quarantined else "")
            raise NoUsableCheckpointError(
                f"{self.directory} holds no usable checkpoint: {found}{where}", quarantined)
        return None

    def _move_aside(self, step: int) -> Path:
        """Moves a damaged step folder out of orbax's sight, keeping its files."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.quarantine / f"step_{step}_{stamp}"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.directory / str(step)
        if source.exists():
            shutil.move(str(source), str(target))
        self._manager.reload()
        return target

    def wait(self) -> None:
        """Blocks until pending asynchronous saves are on disk (with their manifests)."""
        self._finish_saves()
        self._seal()

    def close(self) -> None:
        """Finishes pending saves and releases the manager (after a failed save, whose
        error was raised already, it only releases)."""
        try:
            if not self._failed:
                self._finish_saves()
                self._seal()
        finally:
            try:
                self._manager.close()
            except Exception as err:  # noqa: BLE001 - the failed save's error is the news
                if not self._failed or write_problem(err) is None:
                    raise
            finally:
                if not self._failed:  # after a reported failure orbax's threads may echo it
                    self._quiet.close()  # later still: keep those echoes out for good

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

class _ReportedWriteFailure(logging.Filter):
    """Drops the log records of orbax's background threads (and of the asyncio tasks they
    abandon) about a failed write (disk full, permissions): the Checkpointer raises that
    failure as one CheckpointSaveError."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and write_problem(exc) is not None:
            return False
        text = record.getMessage()
        return not (any(t in text for t in _NO_SPACE_TEXT + _IO_TEXT)
                    and "raised an exception" in text)


@contextlib.contextmanager
def quiet_reported_write_failures():
    """While open, a failed checkpoint write is one line, not hundreds: orbax's threads log
    the failure (with its traceback) once per thread, and the asyncio loops they close leave
    ``RuntimeError: Event loop is closed`` tracebacks (unraisable exceptions) behind.
    Other log records and unraisable exceptions pass through unchanged."""
    # orbax logs through absl; asyncio logs the tasks it abandoned ("Task exception was never
    # retrieved") with the same error
    loggers = [logging.getLogger(name) for name in ("absl", "asyncio")]
    reported = _ReportedWriteFailure()
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        value = unraisable.exc_value
        if isinstance(value, RuntimeError) and str(value) == "Event loop is closed":
            return
        previous(unraisable)

    for logger in loggers:
        logger.addFilter(reported)
    sys.unraisablehook = hook
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(reported)
        if sys.unraisablehook is hook:  # not replaced meanwhile by someone else
            sys.unraisablehook = previous


def shape_signature(state: TrainState) -> dict[str, list[int]]:
    """``{".params['generator']['Dense_0']['kernel']": [2, 16], ...}`` for every array leaf."""
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    return {jax.tree_util.keystr(path): list(leaf.shape) for path, leaf in leaves}


def _signature(tree) -> dict[str, list[int]]:
    """``{"params/generator/Dense_0/kernel": [2, 16], ...}`` of a state or orbax's metadata
    of one (attribute and dict keys alike)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(_key_name(k) for k in path): list(leaf.shape) for path, leaf in leaves}


def _key_name(key) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _shape(shape: list[int] | None) -> str:
    return "absent" if shape is None else str(tuple(shape))


# -- checksums -------------------------------------------------------------------------------


def _files(folder: Path) -> list[Path]:
    """The files of a step folder's items, sorted (the manifest and orbax's own step
    bookkeeping excluded)."""
    return sorted(p for item in _ITEMS for p in (folder / item).rglob("*") if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: str | Path) -> Path:
    """Writes ``<folder>/genjax_sha256.json``: size and sha256 of every file of the step's
    items (call once the save is complete)."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
             for p in _files(folder)}
    return write_atomic(folder / MANIFEST, json.dumps(
        {"format": 1, "algorithm": "sha256", "files": files}, indent=0, sort_keys=True) + "\n")


def verify_manifest(folder: str | Path) -> bool:
    """Checks a step folder against its manifest.

    Returns:
      True when every listed file matches; False when the folder has no manifest (written
      before checksums existed, or killed between the save and its manifest).

    Raises:
      _Corrupt: a listed file is missing, of another size or another sha256, or the manifest
        itself is garbled.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        return False
    try:
        listed = json.loads(path.read_text())["files"]
        items = listed.items()
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _Corrupt(f"its checksum manifest is garbled ({err})") from err
    bad = []
    for name, want in items:
        file = folder / name
        if not file.is_file():
            bad.append(f"{name} is missing")
        elif file.stat().st_size != want.get("size") or _sha256(file) != want.get("sha256"):
            bad.append(f"{name} does not match its sha256")
    if bad:
        raise _Corrupt(f"{len(bad)} of {len(listed)} files fail the checksum "
                       f"({', '.join(bad[:2])})")
    return True


# -- telling corruption from everything else ----------------------------------------------

# Python exceptions that reading a damaged file raises (tensorstore and JSON errors are
# ValueErrors), anywhere in the chain (orbax re-raises some as a bare Exception); anything
# else -- a TypeError, a RuntimeError -- is a bug or a version mismatch, not damage, and is
# never quarantined.
_DAMAGE = (ValueError, KeyError, EOFError, FileNotFoundError, NotADirectoryError,
           IsADirectoryError, StopIteration)
# Error texts of the environment, not of the files (tensorstore status codes, OS messages).
_OOM_TEXT = ("RESOURCE_EXHAUSTED", "out of memory", "Out of memory")
_IO_TEXT = ("PERMISSION_DENIED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "ABORTED",
            "Permission denied", "No space left", "Input/output error", "Stale file handle",
            "Read-only file system", "Too many open files", "Disk quota exceeded")


def _chain(err: BaseException) -> list[BaseException]:
    seen = []
    while err is not None and len(seen) < 8 and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def environment_problem(err: BaseException) -> str | None:
    """``"out of memory"`` / ``"an I/O error (...)"`` when ``err`` comes from the machine
    rather than from the files read, else None."""
    chain = _chain(err)
    for e in chain:
        text = str(e)
        if isinstance(e, MemoryError) or any(t in text for t in _OOM_TEXT):
            return "out of memory"
    for e in chain:
        if isinstance(e, OSError) and not isinstance(
                e, FileNotFoundError | NotADirectoryError | IsADirectoryError):
            name = errno.errorcode.get(e.errno, "") if e.errno else ""
            return f"an I/O error ({e.strerror or e}{f', {name}' if name else ''})"
        text = str(e)
        hit = next((t for t in _IO_TEXT if t in text), None)
        if hit is not None:
            return f"an I/O error ({hit}: {text[:160]})"
    return None


_NO_SPACE_TEXT = ("No space left", "os_error_code='28'", "Disk quota exceeded")


def write_problem(err: BaseException) -> str | None:
    """What went wrong when ``err`` comes from writing files (disk full, permissions, I/O),
    else None. Tensorstore reports a full disk as ``RESOURCE_EXHAUSTED ... No space left``,
    which is not out of memory."""
    chain = _chain(err)
    for e in chain:
        if isinstance(e, OSError):
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                return "no space left on device"
            name = errno.errorcode.get(e.errno, "") if e.errno else ""
            return f"{e.strerror or e}{f', {name}' if name else ''}"
        text = str(e)
        if any(t in text for t in _NO_SPACE_TEXT):
            return "no space left on device"
        hit = next((t for t in _IO_TEXT if t in text), None)
        if hit is not None:
            return f"an I/O error ({hit})"
    return None


def _raise_unless_corrupt(err: BaseException, folder: Path, verified: bool, what: str
                          ) -> NoReturn:
    """Re-raises ``err`` as CheckpointError unless it shows damaged files (then _Corrupt)."""
    summary = f"{type(err).__name__}: {str(err)[:200]}".replace("\n", " ")
    problem = environment_problem(err)
    if problem == "out of memory":
        raise CheckpointError(
            f"restoring {folder} ran out of memory ({summary}); nothing was moved. Free the "
            "device (another process may hold it) or resume on a larger machine.") from err
    if problem is not None:
        raise CheckpointError(
            f"reading {folder} failed with {problem}; nothing was moved. Check the "
            "filesystem (permissions, mount, free space), then re-run.") from err
    if verified:
        raise CheckpointError(
            f"{folder} is intact (its sha256 manifest matches) but could not be restored "
            f"({summary}); nothing was moved. Resume with the genjax and orbax versions that "
            "wrote it.") from err
    if not any(isinstance(e, _DAMAGE) for e in _chain(err)):  # orbax wraps some errors
        raise CheckpointError(
            f"{folder} could not be restored ({summary}); nothing was moved. This is not a "
            "damaged file: check the genjax and orbax versions, or report it.") from err
    raise _Corrupt(f"{what} cannot be read ({summary})") from err

