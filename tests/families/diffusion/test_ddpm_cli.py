"""ddpm end to end through the command line: train, resume exactly, sample with options, bound."""

import dataclasses

import jax
import numpy as np
import pytest

from genjax.cli import load_run, main

TOY = ["--config.model.features=16", "--config.model.num_layers=1",
       "--config.model.input_features=8", "--config.diffusion.timesteps=20",
       "--config.diffusion.sample_steps=5", "--config.train.batch_size=32",
       "--config.optim.warmup_steps=0", "--config.train.log_every=1",
       "--config.train.checkpoint_every=2", "--config.train.sample_every=2",
       "--config.train.num_samples=16"]

# A conditional UNet small enough to compile quickly: 8x8 digits, width 8, one level (the
# middle block keeps its attention).
TINY_UNET = ["--config.data.name=digits", "--config.model.ch=8", "--config.model.ch_mult=(1,)",
             "--config.model.num_res_blocks=1", "--config.model.attn_resolutions=()",
             "--config.model.norm_groups=4", "--config.model.dropout=0.0",
             "--config.diffusion.timesteps=20",
             "--config.diffusion.sample_steps=3", "--config.train.batch_size=8",
             "--config.optim.warmup_steps=0", "--config.train.log_every=1",
             "--config.train.checkpoint_every=2", "--config.train.sample_every=0",
             "--config.train.num_samples=0"]  # no training grids: one compile less


def toy(workdir, steps):
    return main(["train", "ddpm_toy2d", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TOY])


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddpm")
    assert toy(root / "a", 4) == 0
    assert toy(root / "b", 2) == 0
    assert toy(root / "b", 4) == 0  # resumed
    return root


def test_toy_run_resumes_exactly_and_samples_with_ddim_and_ddpm(toy_runs, tmp_path):
    for run in ("a", "b"):
        assert main(["sample", str(toy_runs / run), "--sampler", "ddim", "--steps", "10",
                     "--num", "12", "--seed", "3", "--out", str(tmp_path / f"{run}.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz")["points"], np.load(tmp_path / "b.npz")["points"]
    assert a.shape == (12, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert main(["sample", str(toy_runs / "a"), "--sampler", "ddpm", "--num", "5",
                 "--out", str(tmp_path / "p.npz")]) == 0
    assert (toy_runs / "a" / "samples" / "step_0000004.png").exists()


@pytest.mark.parametrize("options, expected", [
    (["--label", "1"], "unconditional"),
    (["--sampler", "ddpm", "--steps", "10"], "use --sampler ddim"),
    (["--steps", "50"], "--steps must be in [1, 20]"),
])
def test_sampler_options_the_model_cannot_take(capsys, toy_runs, tmp_path, options, expected):
    code = main(["sample", str(toy_runs / "a"), *options, "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("genjax: error:") and expected in err, err


def test_conditional_unet_samples_a_label_with_guidance_and_bounds_bits_per_dim(tmp_path):
    run = tmp_path / "cond"
    assert main(["train", "ddpm_mnist_cond", "--workdir", str(run),
                 "--config.train.steps=2", *TINY_UNET]) == 0
    out = tmp_path / "threes.npz"
    assert main(["sample", str(run), "--label", "3", "--guidance", "3.0", "--steps", "4",
                 "--num", "4", "--out", str(out)]) == 0
    images = np.load(out)["images"]
    assert images.shape == (4, 8, 8, 1) and images.dtype == np.uint8
    # test_metrics on one held-out batch, 3 weighted KL terms (CPU budget)
    config, experiment, state = load_run(run)
    objective = dataclasses.replace(experiment.objective, bound_timesteps=3)
    from genjax.app.experiment import make_batches

    batch = make_batches(config, experiment.spec, "test", shuffle=False).batch(0)
    m = jax.jit(objective.test_metrics)(state, batch, jax.random.PRNGKey(0))
    parts = float(m["bpd_prior"]) + float(m["bpd_decoder"]) + float(m["bpd_terms"])
    assert float(m["bpd"]) > 0 and np.isclose(float(m["bpd"]), parts, rtol=1e-5)


def test_ddpm_configs_build_the_documented_models():
    from genjax.app.experiment import build_objective
    from genjax.config import load_config
    from genjax.data import DatasetSpec, dataset_spec

    mnist = build_objective(load_config("ddpm_mnist"), dataset_spec("mnist_subset"))
    assert mnist.data_shape == (28, 28, 1) and mnist.decoder == "discretized"
    assert mnist.num_classes is None and mnist.schedule.num_timesteps == 1000
    cond = build_objective(load_config("ddpm_mnist_cond"), dataset_spec("mnist_subset"))
    assert cond.num_classes == 10 and cond.model.num_classes == 10 and cond.guidance == 2.0
    toy = build_objective(load_config("ddpm_toy2d"), dataset_spec("toy2d_grid"))
    assert toy.data_shape == (2,) and toy.decoder == "gaussian" and not toy.clip_denoised
    cifar_spec = DatasetSpec("cifar10", "image", (32, 32, 3), 10, {"train": 50_000})
    cifar = build_objective(load_config("ddpm_cifar10"), cifar_spec)
    assert (cifar.model.ch, cifar.model.ch_mult, cifar.model.attn_resolutions) == (
        128, (1, 2, 2, 2), (16,))
    assert cifar.model.dropout == 0.1 and cifar.schedule.name == "linear(T=1000)"


def test_eval_takes_sampler_options_from_the_config_and_the_command_line(toy_runs, tmp_path,
                                                                          capsys):
    """`genjax eval` draws its samples with eval.sample_options, overridden by sampler flags;
    the results say which, and an option the model does not take is one error line."""
    import json

    run = str(toy_runs / "a")
    common = ["--num-samples", "50", "--metrics", "modes"]
    assert main(["eval", run, *common, "--out", str(tmp_path / "a.json"),
                 "--config.eval.sample_options=sampler=ddim,steps=3"]) == 0
    assert main(["eval", run, *common, "--out", str(tmp_path / "b.json"),
                 "--config.eval.sample_options=sampler=ddim,steps=3", "--steps", "7"]) == 0
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a["sample_options"] == {"sampler": "ddim", "steps": 3}
    assert b["sample_options"] == {"sampler": "ddim", "steps": 7}
    capsys.readouterr()
    for argv, expected in (
            (["--config.eval.sample_options=steps=three"], "steps='three' is not a int"),
            (["--config.eval.sample_options=steps"], "NAME=VALUE pairs"),
            (["--rtol", "1e-3"], "does not take --rtol"),
            (["--steps", "50"], "--steps must be in [1, 20]")):  # the flag reaches the sampler
        assert main(["eval", run, *common, "--out", str(tmp_path / "c.json"), *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("genjax: error:") and expected in err[-1], err
    assert not (tmp_path / "c.json").exists()
