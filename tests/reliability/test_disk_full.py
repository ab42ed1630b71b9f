"""Disk full (issue 18, item 5): a checkpoint or run file that cannot be written gives one
``genjax: error:`` line (no orbax traceback), keeps the checkpoints already saved, and the
same command resumes once there is space. A fake filesystem error stands in for a full disk
(a small tmpfs needs privileges a test machine may not give)."""

import errno

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
