"""Disk full (issue 18, item 5): a checkpoint or run file that cannot be written gives one
``genjax: error:`` line (no orbax traceback), keeps the checkpoints already saved, and the
same command resumes once there is space. A fake filesystem error stands in for a full disk,
and where the machine allows it (root and ``unshare``) a real 12 MB tmpfs fills up."""

import errno
import logging
import os
import shlex
import shutil
import subprocess
import sys
import types

import orbax.checkpoint as ocp
import pytest

from genjax.core import reporting
from genjax.core.checkpoint import write_problem
from tests.reliability import runs

NO_SPACE = OSError(errno.ENOSPC, "No space left on device")
# what tensorstore raises from orbax's background save when the disk fills (seen on a tmpfs)
TENSORSTORE_NO_SPACE = ValueError(
    'RESOURCE_EXHAUSTED: Error writing "params.d.kernel/0.0" in OCDBT database: Failed to '
    "write 4255744 bytes to file 19: No space left on device [os_error_code='28']")


def full_disk_on_save(monkeypatch, error, where="save"):
    """Every checkpoint save (or the wait for a background one) raises ``error``."""
    original = getattr(ocp.CheckpointManager, where)

    def failing(self, *args, **kwargs):
        if where == "save" or self._genjax_saving:
            raise error
        return original(self, *args, **kwargs)

    if where == "wait_until_finished":
        save = ocp.CheckpointManager.save

        def marking(self, *args, **kwargs):
            self._genjax_saving = True
            return save(self, *args, **kwargs)

        monkeypatch.setattr(ocp.CheckpointManager, "_genjax_saving", False, raising=False)
        monkeypatch.setattr(ocp.CheckpointManager, "save", marking)
    monkeypatch.setattr(ocp.CheckpointManager, where, failing)


@pytest.mark.parametrize("error,where", [
    (NO_SPACE, "save"),
    (TENSORSTORE_NO_SPACE, "save"),
    (TENSORSTORE_NO_SPACE, "wait_until_finished"),  # the background save's error, re-raised
], ids=["oserror", "tensorstore", "background"])
def test_checkpoint_save_on_full_disk(error, where, toy_run, monkeypatch, capsys):
    with monkeypatch.context() as patch:
        full_disk_on_save(patch, error, where)
        assert runs.train(toy_run, 8) != 0
        err = runs.one_error_line(capsys)
    assert "no space left on device" in err and "latest: step 4" in err, err
    assert "re-run the same command" in err
    assert runs.saved_steps(toy_run) == [2, 4]  # nothing saved is lost
    assert runs.train(toy_run, 8) == 0  # space again: the same command resumes
    assert runs.saved_steps(toy_run)[-1] == 8


def test_metrics_write_on_full_disk(toy_run, monkeypatch, capsys):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(toy_run / "metrics.jsonl"))

    with monkeypatch.context() as patch:
        patch.setattr(reporting.MetricsLog, "write", full)
        assert runs.train(toy_run, 8) != 0
        err = runs.one_error_line(capsys)
    assert "metrics.jsonl" in err and "No space left on device" in err, err
    assert runs.saved_steps(toy_run) == [2, 4]
    assert runs.train(toy_run, 8) == 0


def test_write_problem_names_the_cause():
    assert write_problem(NO_SPACE) == "no space left on device"
    assert write_problem(TENSORSTORE_NO_SPACE) == "no space left on device"
    assert "EACCES" in write_problem(PermissionError(errno.EACCES, "Permission denied"))
    assert write_problem(ValueError("a shape mismatch")) is None


def _private_mounts() -> bool:
    """Whether this process may mount a tmpfs in a private mount namespace (root + unshare),
    which vanishes with the namespace and touches nothing else on the machine."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _private_mounts(), reason="a real full disk needs root and unshare")
def test_a_real_full_disk_gives_one_line_and_resumes(tmp_path):
    """A 12 MB tmpfs holds the step-2 checkpoint (~8 MB) but not step 4: the failed background
    save is exactly one stderr line (orbax's threads would print ~400 lines of tracebacks),
    step 2 is kept, and once the tmpfs is grown the same command resumes and finishes."""
    disk = tmp_path / "disk"
    disk.mkdir()
    command = shlex.join([sys.executable, "-m", "genjax.cli", "train", "gan_toy2d",
                          "--workdir", str(disk / "run"), "--config.train.steps=6", *runs.TOY])
    warm = command.replace(str(disk / "run"), str(tmp_path / "warm"))  # builds the dataset
    script = f"""
        {warm} > /dev/null 2>&1
        mount -t tmpfs -o size=12M tmpfs {disk}
        {command} 2> {tmp_path}/err1; echo $? > {tmp_path}/rc1
        ls {disk}/run/checkpoints > {tmp_path}/steps1
        mount -o remount,size=64M {disk}
        {command} 2> {tmp_path}/err2; echo $? > {tmp_path}/rc2
        ls {disk}/run/checkpoints > {tmp_path}/steps2
    """
    data = dict(os.environ, GENJAX_DATA_DIR=str(tmp_path / "data"))  # this run's alone
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=600, env=data)
    read = lambda name: (tmp_path / name).read_text()  # noqa: E731
    err = read("err1").strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genjax: error: could not write checkpoint"), err
    assert "no space left on device" in err[0] and "latest: step 2" in err[0], err
    assert read("rc1").strip() == "1"
    assert [s for s in read("steps1").split() if s.isdigit()] == ["2"]  # + orbax's partial 4
    assert read("rc2").strip() == "0", read("err2")[-3000:]
    assert read("steps2").split() == ["2", "4", "6"]


def test_quiet_write_failures_drops_only_the_echoes(caplog):
    """Inside ``quiet_reported_write_failures`` orbax's absl records of a write error, asyncio's
    record of the task it abandoned and the "Event loop is closed" unraisables are
    dropped; any other record or unraisable passes."""
    from genjax.core.checkpoint import quiet_reported_write_failures

    absl = logging.getLogger("absl")
    seen = []
    previous, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        with quiet_reported_write_failures(), caplog.at_level(logging.ERROR):
            try:
                raise TENSORSTORE_NO_SPACE
            except ValueError:
                absl.exception("[thread=array_type_handler] _SignalingThread.run() raised an "
                               "exception: %s", TENSORSTORE_NO_SPACE)
                logging.getLogger("asyncio").exception("Task exception was never retrieved")
            absl.error("a different problem")
            for error in (RuntimeError("Event loop is closed"), RuntimeError("other")):
                sys.unraisablehook(types.SimpleNamespace(exc_value=error))
        assert [r.getMessage() for r in caplog.records] == ["a different problem"]
        assert [str(u.exc_value) for u in seen] == ["other"]
        assert sys.unraisablehook == seen.append  # restored on exit
    finally:
        sys.unraisablehook = previous
