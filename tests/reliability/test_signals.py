"""SIGTERM is handled like Ctrl-C (issue 18, item 6): the loop saves a checkpoint after the
current step and the process exits 128 + 15; further signals during the save wait quietly;
resuming gives the parameters of an uninterrupted run, bit for bit."""

import os
import signal

import pytest

from genjax.cli import load_run
from genjax.core.checkpoint import Checkpointer
from genjax.core.loop import LoopSettings, StopRequest, TrainingInterrupted, stop_on_signals, train
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from tests.helpers import ring_points, tiny_gan, tree_equal
from tests.reliability import runs

# Only the stop writes a checkpoint (the periodic one would come at step 1000).
RARE_CHECKPOINTS = "--config.train.checkpoint_every=1000"


def test_sigterm_saves_exits_143_and_resumes_bit_identically(tmp_path):
    work = tmp_path / "run"
    proc = runs.spawn(work, 100_000, RARE_CHECKPOINTS)
    try:
        runs.wait_for_step(work, proc, 2)
        proc.send_signal(signal.SIGTERM)
        # Signals pending together are handled in number order (SIGINT before SIGTERM), so
        # the extras wait until the SIGTERM is the one the handler has taken.
        runs.wait_for_stderr(work, proc, "received SIGTERM")
        for extra in (signal.SIGTERM, signal.SIGINT):  # impatience during the save
            try:
                proc.send_signal(extra)
            except ProcessLookupError:
                break
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    stderr = runs.stderr_of(work)
    assert code == 128 + signal.SIGTERM, stderr[-3000:]
    assert "Traceback" not in stderr and "Event loop is closed" not in stderr, stderr[-3000:]
    assert "interrupted: stopped by SIGTERM at step" in stderr
    [stopped] = runs.saved_steps(work)  # the checkpoint the stop wrote, at the step it stopped
    assert 2 <= stopped < 1000 and f"at step {stopped};" in stderr
    assert runs.metric_steps(work)[-1] == stopped  # the steps since the last record are logged

    end = stopped + 3
    assert runs.train(work, end, RARE_CHECKPOINTS) == 0
    assert runs.train(tmp_path / "straight", end, RARE_CHECKPOINTS) == 0
    resumed, straight = load_run(work)[2], load_run(tmp_path / "straight")[2]
    assert int(resumed.step) == int(straight.step) == end
    assert tree_equal(resumed, straight)


def test_stop_on_signals_installs_for_the_block_only():
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert signal.getsignal(signal.SIGTERM) is not before
        assert not stop
        os.kill(os.getpid(), signal.SIGTERM)  # handled: the test process lives on
        assert stop.signum == signal.SIGTERM
        os.kill(os.getpid(), signal.SIGINT)  # a second signal changes nothing
        assert stop.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def batches():
    return Batches(ArraySource({"point": ring_points()}), 32, 0)


class StopAt(StopRequest):
    """Requests a stop once the loop has polled ``after`` times (it polls before each step
    and after each logging/saving boundary)."""

    def __init__(self, after):
        super().__init__()
        self.polls, self.after = 0, after

    def __bool__(self):
        self.polls += 1
        if self.polls > self.after:
            self.request(signal.SIGTERM)
        return super().__bool__()


def test_the_loop_stops_at_a_step_saves_it_and_resumes_exactly(tmp_path):
    # polls before steps 0-3, at the boundary of step 4, before step 4: the 7th is before 5
    settings = LoopSettings(steps=8, log_every=4, checkpoint_every=4, sample_every=0)
    with pytest.raises(TrainingInterrupted) as info:
        train(tiny_gan(), batches(), tmp_path / "a", settings, seed=0, stop=StopAt(6))
    assert info.value.step == 5 and info.value.exit_code == 143
    with Checkpointer(tmp_path / "a" / "checkpoints") as ckpt:
        assert ckpt.steps() == [4, 5]
    resumed = train(tiny_gan(), batches(), tmp_path / "a", settings, seed=0)
    straight = train(tiny_gan(), batches(), tmp_path / "b", settings, seed=0)
    assert tree_equal(resumed, straight)


def test_a_stop_before_any_step_saves_nothing_new(tmp_path):
    settings = LoopSettings(steps=4, log_every=2, checkpoint_every=2, sample_every=0)
    stop = StopRequest()
    stop.request(signal.SIGINT)
    with pytest.raises(TrainingInterrupted, match="nothing new to save") as info:
        train(tiny_gan(), batches(), tmp_path, settings, seed=0, stop=stop)
    assert info.value.step == 0 and info.value.exit_code == 130
    assert not (tmp_path / "checkpoints").exists() or not any(
        p.name.isdigit() for p in (tmp_path / "checkpoints").iterdir())
