"""The training loop: exact resume, files written, NaN stop, corrupt-checkpoint fall-back."""

import glob
import json
import os

import jax
import numpy as np
import pytest

from genjax.core.checkpoint import Checkpointer, CheckpointError
from genjax.core.loop import LoopSettings, NonFiniteLossError, init_state, train
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from genjax.modalities import modalities
from tests.helpers import MLP, ring_points, tiny_gan, tree_equal


def batches(seed=0, batch_size=32):
    return Batches(ArraySource({"point": ring_points()}), batch_size, seed)


def settings(steps, **kw):
    base = dict(log_every=2, checkpoint_every=4, sample_every=4, keep_checkpoints=5)
    base.update(kw)
    return LoopSettings(steps=steps, **base)


def saved_steps(workdir):
    with Checkpointer(workdir / "checkpoints") as ckpt:
        return ckpt.steps()


def test_resume_is_bit_identical(tmp_path):
    gan = tiny_gan(ema_decay=0.9)
    straight = train(gan, batches(), tmp_path / "a", settings(8), seed=3)
    train(gan, batches(), tmp_path / "b", settings(4), seed=3)
    resumed = train(gan, batches(), tmp_path / "b", settings(8), seed=3)
    assert int(resumed.step) == 8
    assert tree_equal(straight, resumed)
    # the resumed run's log has each step once, in order
    steps = [json.loads(line)["step"] for line in open(tmp_path / "b" / "metrics.jsonl")]
    assert steps == [2, 4, 6, 8]
    assert not (tmp_path / "a" / "samples").exists()  # sample files need a writer


def test_scan_steps_match_single_steps(tmp_path):
    gan = tiny_gan()
    single = train(gan, batches(), tmp_path / "a", settings(8), seed=1)
    scanned = train(gan, batches(), tmp_path / "b", settings(8, steps_per_call=2), seed=1)
    assert int(scanned.step) == 8
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 single.params, scanned.params)


def test_writes_run_files(tmp_path):
    train(tiny_gan(), batches(), tmp_path, settings(8), seed=0, writer=modalities()["points"])
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert {"step", "d_loss", "g_loss", "steps_per_sec"} <= set(records[0])
    assert sorted(os.listdir(tmp_path / "samples")) == [
        "progress.gif", "step_0000004.png", "step_0000008.png"]  # the grids, animated
    assert (tmp_path / "plots" / "losses.png").stat().st_size > 0
    assert glob.glob(str(tmp_path / "tensorboard" / "events.out.tfevents.*"))
    assert saved_steps(tmp_path) == [4, 8]


def test_data_position_depends_on_real_batch(tmp_path):
    """Different data seeds give different training (the batch really feeds the step)."""
    a = train(tiny_gan(), batches(seed=0), tmp_path / "a", settings(2), seed=0)
    b = train(tiny_gan(), batches(seed=1), tmp_path / "b", settings(2), seed=0)
    assert not tree_equal(a.params["discriminator"], b.params["discriminator"])


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    gan = tiny_gan()
    train(gan, batches(), tmp_path, settings(4), seed=0)
    bad = ring_points()
    bad[:] = np.nan
    with pytest.raises(NonFiniteLossError, match=r"step 5.*step 4\)"):
        train(gan, Batches(ArraySource({"point": bad}), 32, 0), tmp_path, settings(8), seed=0)
    assert saved_steps(tmp_path) == [4]


def test_corrupt_latest_checkpoint_falls_back(tmp_path, caplog):
    gan = tiny_gan()
    train(gan, batches(), tmp_path, settings(8), seed=0)
    for f in glob.glob(str(tmp_path / "checkpoints" / "8" / "state" / "**" / "d" / "*"),
                       recursive=True):
        open(f, "wb").close()  # truncate the array data of the latest checkpoint
    with Checkpointer(tmp_path / "checkpoints") as ckpt:
        state, meta = ckpt.restore_latest(init_state(gan, batches(), 0))
    assert int(state.step) == 4 and meta["data_position"] == 4
    assert "could not be read" in caplog.text
    kept = glob.glob(str(tmp_path / "corrupt_checkpoints" / "step_8_*"))
    assert kept, "the damaged checkpoint must be kept, not deleted"
    # training continues from step 4 and reaches the same result as a clean run
    resumed = train(gan, batches(), tmp_path, settings(8), seed=0)
    clean = train(gan, batches(), tmp_path / "clean", settings(8), seed=0)
    assert tree_equal(resumed.params, clean.params)


def test_loop_settings_validate():
    with pytest.raises(ValueError, match="train.steps"):
        LoopSettings(steps=0)
    s = LoopSettings(steps=100, log_every=30, checkpoint_every=50, sample_every=0)
    assert [s.next_boundary(x) for x in (0, 30, 50, 90)] == [30, 50, 60, 100]


def test_non_finite_update_is_never_saved(tmp_path):
    """Step 1's losses are finite, but its G update (lr=inf) is not: nothing may be saved."""
    import dataclasses

    import optax

    gan = dataclasses.replace(tiny_gan(), g_optimizer=optax.adam(float("inf")))
    with pytest.raises(NonFiniteLossError, match="step 1.*no checkpoint"):
        train(gan, batches(), tmp_path, settings(4, checkpoint_every=1, log_every=1), seed=0)
    assert saved_steps(tmp_path) == []


def test_checkpoint_of_another_model_is_refused_and_kept(tmp_path):
    import dataclasses

    train(tiny_gan(), batches(), tmp_path, settings(2), seed=0)
    wider = dataclasses.replace(tiny_gan(), generator=MLP((32,), 2))
    with pytest.raises(CheckpointError, match="different model"):
        train(wider, batches(), tmp_path, settings(4), seed=0)
    assert saved_steps(tmp_path) == [2]
    assert not (tmp_path / "corrupt_checkpoints").exists()


def test_reconstruction_inputs_spread_over_a_class_sorted_split():
    from genjax.core.loop import recon_inputs
    from genjax.data import ArraySource, Batches

    labels = np.repeat(np.arange(10), 100).astype(np.int32)  # sorted by class, as mnist_subset
    source = ArraySource({"point": np.zeros((1000, 2), np.float32), "label": labels})
    picked = recon_inputs(Batches(source, 50, seed=0, shuffle=False), 10)
    assert picked["point"].shape == (10, 2)
    assert sorted(set(picked["label"].tolist())) == list(range(10))
