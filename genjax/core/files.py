"""Run-folder files that survive a kill at any instant: atomic writes and the workdir lock.

``write_atomic`` writes a temporary file in the target's folder, fsyncs it, and
``os.replace``-s it over the target (then fsyncs the folder), so a reader -- or a run killed
half-way -- only ever sees the old file or the new one, never a truncated mix. Replacing a
path swaps the directory entry: a symlink planted at the target is replaced, not followed.

``WorkdirLock`` is an exclusive ``flock`` on ``<workdir>/train.lock``, held by one trainer
for the whole run. The operating system releases it when the holding process dies (even by
SIGKILL), so a lock left by a dead process never blocks; the file only records who holds it.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import logging
import os
import socket
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks (the lock is then a no-op)
    fcntl = None

log = logging.getLogger(__name__)

LOCK_NAME = "train.lock"


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Replaces ``path`` with ``data`` atomically and durably.

    Args:
      path: the file to write (its folder must exist).
      data: text (written as UTF-8) or bytes.

    Returns:
      ``path``.

    Raises:
      OSError: the folder is not writable, the disk is full, ... (``path`` is then unchanged
        and no temporary file is left behind).
    """
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for open()
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


@contextlib.contextmanager
def written_atomically(path: str | Path):
    """A temporary path to write ``path``'s new content to (by a writer that takes a path:
    PIL, ``np.savez``); on success it is fsynced and ``os.replace``-s ``path``, so a symlink
    planted at ``path`` is replaced, never followed; on failure it is removed.

    The temporary name keeps ``path``'s suffix (writers choose their format by it) and is
    created exclusively first (``O_EXCL | O_NOFOLLOW``), so nothing can be planted there.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}{path.suffix}")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o666))
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def remove_stale_temps(path: str | Path) -> None:
    """Deletes the temporary files that writes of ``path`` killed half-way left behind.

    Call it only where no other process writes ``path`` (e.g. holding the workdir lock).
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def fsync_dir(folder: str | Path) -> None:
    """Makes renames inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class WorkdirError(RuntimeError):
    """The workdir cannot be used; the message says the fix (``genjax.app.experiment``
    re-exports it; defined here so the command line names it without importing JAX)."""


def workdir_path(text: str) -> Path:
    """A ``--workdir`` / ``WORKDIR`` argument as a path; an empty one (an unset shell
    variable) would mean the current directory, so it is refused."""
    if not str(text).strip():
        raise WorkdirError("the workdir is empty (an unset shell variable?); name a run "
                           "folder, e.g. --workdir runs/mine")
    return Path(text)


class WorkdirLockedError(RuntimeError):
    """Another live process holds the workdir's lock."""

    def __init__(self, workdir: Path, holder: dict):
        self.workdir, self.holder = workdir, holder
        who = (f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
               + (f", since {holder['since']}" if holder.get("since") else ""))
        super().__init__(
            f"{workdir} is in use by another `genjax train` ({who}); wait for it to finish, "
            "stop it, or use another --workdir")


class WorkdirLock:
    """An exclusive, non-blocking lock on a run folder (a context manager).

    Args:
      workdir: the run folder (must exist).

    Raises (on ``acquire`` / ``with``):
      WorkdirLockedError: another live process holds it; its pid and host are named.
    """

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir)
        self.path = self.workdir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> WorkdirLock:
        if fcntl is None or self._fd is not None:
            return self
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(
            os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise WorkdirLockedError(self.workdir, read_lock_holder(self.path)) from None
            if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                log.warning("the filesystem of %s does not support locks (%s); training "
                            "without the workdir lock", self.workdir, err.strerror)
                return self
            raise
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Releases the lock (the file stays: unlinking it would let two processes lock
        different files of the same name)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> WorkdirLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def read_lock_holder(path: str | Path) -> dict:
    """What a lock file says about its holder (``{}`` if it says nothing readable)."""
    try:
        holder = json.loads(Path(path).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
