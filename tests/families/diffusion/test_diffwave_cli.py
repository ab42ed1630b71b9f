"""DiffWave (the ddpm family on audio) end to end: train on the tiny spoken digits, resume
exactly, sample label-conditioned clips with guidance into WAV files, the loop's WAV and
spectrogram files."""

import wave

import jax
import numpy as np
import pytest

from genjax.cli import load_run, main

pytest.importorskip("espeakng_loader")  # builds spoken_digits_tiny (the test extra has it)

TINY = ["--config.data.name=spoken_digits_tiny", "--config.model.residual_channels=4",
        "--config.model.num_layers=2", "--config.model.dilation_cycle=2",
        "--config.model.time_dim=8", "--config.model.time_features=8",
        "--config.diffusion.timesteps=10", "--config.diffusion.sample_steps=2",
        "--config.train.batch_size=4", "--config.optim.warmup_steps=0",
        "--config.train.log_every=1", "--config.train.checkpoint_every=1",
        "--config.train.sample_every=2", "--config.train.num_samples=2"]


def run(workdir, steps):
    return main(["train", "diffwave_digits", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TINY])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("diffwave")
    assert run(root / "a", 2) == 0
    assert run(root / "b", 1) == 0
    assert run(root / "b", 2) == 0  # resumed
    return root


def test_resumed_run_equals_uninterrupted(runs):
    _, _, a = load_run(runs / "a")
    _, _, b = load_run(runs / "b")
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_the_loop_writes_clips_and_their_spectrograms(runs):
    samples = runs / "a" / "samples"
    assert (samples / "step_0000002.wav").stat().st_size > 0
    assert (samples / "step_0000002.png").stat().st_size > 0


def test_samples_a_label_with_guidance_into_one_wav_per_clip(runs, tmp_path):
    out = tmp_path / "sevens"
    assert main(["sample", str(runs / "a"), "--num", "3", "--label", "7", "--guidance", "2.0",
                 "--steps", "2", "--out", f"{out}/"]) == 0
    files = sorted(out.glob("sample_*.wav"))
    assert len(files) == 3
    with wave.open(str(files[0])) as f:
        assert f.getframerate() == 16000 and f.getnframes() == 16000
    assert main(["sample", str(runs / "a"), "--num", "3", "--label", "7", "--guidance", "2.0",
                 "--steps", "2", "--out", str(tmp_path / "s.npz")]) == 0
    clips = np.load(tmp_path / "s.npz")["audio"]
    assert clips.shape == (3, 16000) and np.abs(clips).max() <= 1.0
    assert np.isfinite(clips).all() and clips.std() > 0
