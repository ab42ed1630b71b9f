"""VAE, DAE and AAE through the command line: train, resume bit-identically, sample, grids."""

import json
from pathlib import Path

import numpy as np
import pytest

from genjax.cli import load_run, main
from tests.helpers import tree_equal

TINY = ["--config.train.batch_size=8", "--config.model.enc_features=(4, 8)",
        "--config.model.dec_features=(8, 4)", "--config.model.hidden=16",
        "--config.model.latent_dim=4", "--config.train.log_every=1",
        "--config.train.checkpoint_every=2", "--config.train.sample_every=2",
        "--config.train.eval_every=0", "--config.train.num_samples=8"]
EXTRA = {"vae": ["--config.eval.iwae_k=10"], "dae": ["--config.model.sample_steps=2"],
         "aae": ["--config.model.d_features=(8,)"]}


def train(family, workdir, steps):
    return main(["train", f"{family}_mnist", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TINY, *EXTRA[family]])


@pytest.mark.parametrize("family", ["vae", "aae"])
def test_train_resume_sample(family, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert train(family, a, 4) == 0
    assert train(family, b, 2) == 0
    assert train(family, b, 4) == 0  # resumed from step 2
    state_a, state_b = load_run(Path(a))[2], load_run(Path(b))[2]
    assert int(state_a.step) == 4 and tree_equal(state_a, state_b)
    assert sorted(p.name for p in (a / "samples").iterdir()) == [
        "progress.gif", "recon_step_0000002.png", "recon_step_0000004.png", "step_0000002.png",
        "step_0000004.png"]
    assert main(["sample", str(a), "--num", "8", "--out", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (8, 28, 28, 1) and images.dtype == np.uint8
    if family == "vae":  # genjax eval: the ELBO and the IWAE bound over the whole test split
        assert main(["eval", str(a), "--metrics", "none", "--config.eval.iwae_k=5"]) == 0
        result = json.loads((a / "eval.json").read_text())
        assert result["test_examples"] == 1000 and np.isfinite(result["test_elbo"])
        assert result["test_nll_iwae_5"] <= -result["test_elbo"] + 1e-3  # IWAE_k >= ELBO


def test_dae_trains_and_samples_with_steps(tmp_path):
    """The DAE's state has the VAE's structure (one tree, one optimizer), whose exact resume is
    tested above; here: the run folder, and ``genjax sample --steps`` reaching its chain."""
    assert train("dae", tmp_path, 2) == 0
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "progress.gif", "recon_step_0000002.png", "step_0000002.png"]
    for steps in ("1", "3"):
        assert main(["sample", str(tmp_path), "--num", "8", "--steps", steps,
                     "--out", str(tmp_path / f"s{steps}.npz")]) == 0
    one, three = (np.load(tmp_path / f"s{s}.npz")["images"] for s in ("1", "3"))
    assert one.shape == (8, 28, 28, 1) and not np.array_equal(one, three)
