"""The GAN configs through the command line: a tiny conditional GAN trains and samples one
class with --label (exact resume is the loop's, tested in tests/core and tests/test_cli)."""

import numpy as np
import pytest

from genjax.cli import main

TINY = ["--config.train.batch_size=8", "--config.model.g_features=(8, 8, 4)",
        "--config.model.d_features=(4, 8, 8)", "--config.model.label_dim=4",
        "--config.model.latent_dim=8", "--config.train.log_every=1",
        "--config.train.checkpoint_every=2", "--config.train.sample_every=2",
        "--config.train.num_samples=10"]


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cgan")
    assert main(["train", "cgan_mnist", "--workdir", str(root), "--config.train.steps=2",
                 *TINY]) == 0
    return root


def test_cgan_trains_and_samples_a_label(cgan_run, tmp_path):
    assert sorted(p.name for p in (cgan_run / "samples").iterdir()) == [
        "progress.gif", "step_0000002.png"]
    for label in (3, 5):
        assert main(["sample", str(cgan_run), "--label", str(label), "--num", "4", "--seed", "1",
                     "--out", str(tmp_path / f"{label}.npz")]) == 0
    threes, fives = (np.load(tmp_path / f"{k}.npz")["images"] for k in (3, 5))
    assert threes.shape == (4, 32, 32, 1)
    assert not np.array_equal(threes, fives)  # same latents, another class


def test_every_gan_config_builds(tmp_path):
    """Each named GAN config builds its objective and takes its data (init traced)."""
    import jax

    from genjax.app.experiment import build
    from genjax.config import load_config

    for name in ("cgan_mnist", "wgangp_mnist", "hinge_sn_mnist", "progan_mnist", "gan_toy2d"):
        experiment = build(load_config(name), with_eval=False)
        shapes = jax.eval_shape(experiment.objective.init, jax.random.PRNGKey(0),
                                experiment.train_batches.batch(0))
        assert shapes.params["generator"], name


@pytest.mark.parametrize("argv_tail, expected", [
    (["gan_toy2d", "--config.gan.loss=wasserstien"], "unknown GAN loss 'wasserstien'"),
    (["gan_toy2d", "--config.gan.augment=color"], "needs image data"),
    (["gan_toy2d", "--config.model.conditional=True"], "needs labels"),
    (["cgan_mnist", "--config.gan.augment=flip"], "unknown DiffAugment policy"),
    (["gan_toy2d", "--config.model.arch=resnet"], "unknown model.arch 'resnet'"),
    (["gan_toy2d", "--config.gan.instance_noise=0.5"], "instance_noise_steps >= 1"),
])
def test_bad_gan_options_get_one_clear_error(capsys, tmp_path, argv_tail, expected):
    code = main(["train", *argv_tail, "--workdir", str(tmp_path / "w")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("genjax: error:") and len(err.splitlines()) == 1, err
    assert expected in err
