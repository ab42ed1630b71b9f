"""VQ-VAE end to end through the CLI: train, resume bit-identically, prior stage, sample."""

import json

import numpy as np
import pytest

from genjax.cli import load_run, main
from tests.helpers import tree_equal

TINY_VQ = ["--config.train.batch_size=8", "--config.model.features=(4, 8)",
           "--config.model.code_dim=4", "--config.model.num_codes=16",
           "--config.model.res_hidden=4", "--config.model.restart_after=1",
           "--config.train.log_every=1", "--config.train.checkpoint_every=2",
           "--config.train.sample_every=2", "--config.train.eval_every=0"]
TINY_PRIOR = ["--config.train.batch_size=8", "--config.model.width=8", "--config.model.depth=1",
              "--config.model.heads=2", "--config.model.mlp_ratio=1",
              "--config.train.log_every=1", "--config.train.checkpoint_every=2",
              "--config.train.sample_every=2", "--config.train.eval_every=0",
              "--config.train.num_samples=4"]


def train_vq(workdir, steps):
    return main(["train", "vqvae_mnist", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TINY_VQ])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """vq_a: 3 steps straight. vq_b: 2 steps, resumed to 3. prior: 2 steps on vq_a."""
    root = tmp_path_factory.mktemp("vqruns")
    assert train_vq(root / "vq_a", 3) == 0
    assert train_vq(root / "vq_b", 2) == 0
    assert train_vq(root / "vq_b", 3) == 0
    assert main(["train", "vqvae_prior_mnist", "--workdir", str(root / "prior"),
                 "--config.train.steps=2", f"--config.model.vqvae_dir={root / 'vq_a'}",
                 *TINY_PRIOR]) == 0
    return root


def test_vqvae_run_writes_metrics_and_reconstruction_grids(runs):
    a = runs / "vq_a"
    records = [json.loads(line) for line in (a / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    for name in ("perplexity", "usage", "recon_mse", "psnr", "restarts"):
        assert all(np.isfinite(r[name]) for r in records), name
    assert sorted(p.name for p in (a / "samples").iterdir()) == [
        "recon_step_0000002.png", "recon_step_0000003.png"]


def test_resumed_vqvae_run_is_bit_identical(runs):
    _, _, a = load_run(runs / "vq_a")
    _, _, b = load_run(runs / "vq_b")
    assert int(a.step) == int(b.step) == 3
    assert tree_equal(a, b)  # params, Adam state and the EMA / unused-code statistics


def test_prior_dir_samples_digits_and_vqvae_dir_points_to_the_prior(runs, tmp_path, capsys):
    prior = runs / "prior"
    assert (prior / "samples" / "step_0000002.png").exists()
    out = tmp_path / "s.npz"
    assert main(["sample", str(prior), "--num", "5", "--seed", "1", "--out", str(out)]) == 0
    images = np.load(out)["images"]
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    # the prior's checkpoint carries the frozen VQ-VAE it was trained on
    _, _, vq_state = load_run(runs / "vq_a")
    _, _, prior_state = load_run(prior)
    assert tree_equal(prior_state.model_state["vqvae"]["params"], vq_state.params)
    capsys.readouterr()
    assert main(["sample", str(runs / "vq_a"), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "vqvae_prior_mnist" in err and len(err.strip().splitlines()) == 1


def test_prior_without_a_vqvae_dir_gets_one_clear_error(capsys, tmp_path):
    assert main(["train", "vqvae_prior_mnist", "--workdir", str(tmp_path / "p"),
                 *TINY_PRIOR]) == 2
    assert "model.vqvae_dir is empty" in capsys.readouterr().err
    assert main(["train", "vqvae_prior_mnist", "--workdir", str(tmp_path / "p"),
                 f"--config.model.vqvae_dir={tmp_path / 'nothing'}", *TINY_PRIOR]) == 2
    assert "not a run folder" in capsys.readouterr().err
