"""One trainer per workdir (issue 18, item 7): a second ``genjax train`` on a held workdir is
refused with one line naming the holder's pid and host; the lock of a killed trainer does not
block (the operating system drops a flock with its process)."""

import signal
import socket

import pytest

from genjax.core.files import LOCK_NAME, WorkdirLock, WorkdirLockedError, read_lock_holder
from tests.reliability import runs


def test_a_second_trainer_is_refused_and_a_killed_ones_lock_does_not_block(tmp_path, capsys):
    work = tmp_path / "run"
    proc = runs.spawn(work, 100_000)
    try:
        runs.wait_for_step(work, proc, 2)
        metrics_before = (work / "metrics.jsonl").stat().st_size
        capsys.readouterr()
        assert runs.train(work, 6) == 2
        err = runs.one_error_line(capsys)
        assert f"pid {proc.pid} on host {socket.gethostname()}" in err
        assert "in use by another `genjax train`" in err and "--workdir" in err
        assert proc.poll() is None  # the holder trains on, undisturbed
        assert (work / "metrics.jsonl").stat().st_size >= metrics_before
        proc.send_signal(signal.SIGKILL)  # dies holding the lock
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert read_lock_holder(work / LOCK_NAME)["pid"] == proc.pid  # a stale record
    saved = runs.saved_steps(work)
    last = saved[-1] if saved else 0  # killed maybe before its first checkpoint was complete
    assert runs.train(work, last + 2) == 0  # not blocked; resumes the killed run
    assert runs.saved_steps(work)[-1] == last + 2
    assert read_lock_holder(work / LOCK_NAME) == {}  # released on exit


def test_the_lock_is_exclusive_and_released(tmp_path):
    with WorkdirLock(tmp_path) as held:
        holder = read_lock_holder(held.path)
        assert holder["host"] == socket.gethostname() and isinstance(holder["pid"], int)
        with pytest.raises(WorkdirLockedError, match=f"pid {holder['pid']}"):
            WorkdirLock(tmp_path).acquire()
    with WorkdirLock(tmp_path):  # free again
        pass
