"""samples/progress.gif: the run's .png sample grids animated at the end of a run, drawn from
one fixed key so the frames differ only by training."""

import jax
import numpy as np
from PIL import Image, ImageSequence

import genjax
from genjax.app.experiment import build
from genjax.core.checkpoint import Checkpointer
from genjax.core.loop import LoopSettings, run_keys, train
from genjax.core.reporting import write_progress_gif
from genjax.families import families


def grids(run):
    return sorted((run / "samples").glob("step_*.png"))


def pixels(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


class ArrayWriter:
    """Writes the loop's sample grids as ``.npy`` arrays (the numbers, not a picture)."""

    def write_samples(self, samples, stem):
        path = stem.with_name(stem.name + ".npy")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, samples)
        return (path,)


def test_every_grid_of_a_run_draws_the_same_noise(tmp_path):
    config = families()["gan"].smallest({})
    exp = build(config)
    settings = LoopSettings(steps=3, log_every=1, checkpoint_every=1, sample_every=1,
                            num_samples=16, keep_checkpoints=3)
    run = tmp_path / "run"
    train(exp.objective, exp.train_batches, run, settings, seed=7, writer=ArrayWriter())
    assert not (run / "samples" / "progress.gif").exists()  # no .png grids, no animation
    key = run_keys(7)["sample"]  # the run's sample stream, the same key at every step
    checkpointer = Checkpointer(run / "checkpoints", keep=3)
    template = exp.objective.init(jax.random.PRNGKey(0), exp.train_batches.batch(0))
    grids = []
    try:
        for step in (1, 2, 3):
            state, _ = checkpointer.restore(template, step)
            grid = np.load(run / "samples" / f"step_000000{step}.npy")
            expected = np.asarray(exp.objective.sample(state, key, 16))
            np.testing.assert_allclose(grid, expected, atol=1e-6)
            grids.append(grid)
    finally:
        checkpointer.close()
    assert not np.allclose(grids[0], grids[2])  # the model (not the noise) changed


def test_a_run_ends_with_a_gif_of_its_grids(tmp_path):
    config = families()["gan"].smallest({})  # 2D points: the grids are scatter plots
    config.train.update({"steps": 3, "log_every": 1, "checkpoint_every": 3,
                         "sample_every": 1, "eval_every": 0})
    run = tmp_path / "run"
    genjax.train(config, run)
    paths = grids(run)
    assert [p.name for p in paths] == [f"step_000000{i}.png" for i in (1, 2, 3)]
    with Image.open(run / "samples" / "progress.gif") as gif:
        assert gif.format == "GIF" and gif.size == Image.open(paths[0]).size
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 3
    # each frame is its grid (up to the GIF's 256-colour palette)
    for frame, path in zip(frames, paths, strict=True):
        assert np.mean(np.abs(frame.astype(int) - pixels(path).astype(int))) < 8


def test_image_grids_animate_and_other_formats_do_not(tmp_path):
    config = families()["vae"].smallest({})  # 8x8 digits: image grids
    config.train.update({"steps": 2, "log_every": 1, "checkpoint_every": 2,
                         "sample_every": 1, "eval_every": 0})
    run = tmp_path / "vae"
    genjax.train(config, run)
    with Image.open(run / "samples" / "progress.gif") as gif:
        assert sum(1 for _ in ImageSequence.Iterator(gif)) == 2
    # a modality whose loop writes text (or audio) files has no frames
    text = tmp_path / "text" / "samples"
    text.mkdir(parents=True)
    (text / "step_0000001.txt").write_text("hello")
    assert write_progress_gif(text, text / "progress.gif") is None
    assert not (text / "progress.gif").exists()
    assert write_progress_gif(tmp_path / "missing", tmp_path / "x.gif") is None
