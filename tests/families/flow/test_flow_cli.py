"""flow end to end through the command line: train, resume exactly, sample with solver options."""

import jax
import numpy as np
import pytest

from genjax.cli import load_run, main
from tests.helpers import tree_equal

TOY = ["--config.model.features=16", "--config.model.num_layers=1",
       "--config.model.input_features=8", "--config.flow.sample_steps=4",
       "--config.train.batch_size=32", "--config.optim.warmup_steps=0",
       "--config.train.log_every=1", "--config.train.checkpoint_every=2",
       "--config.train.sample_every=2", "--config.train.num_samples=16"]

# A conditional UNet small enough to compile quickly: 8x8 digits, width 8, one level.
TINY_UNET = ["--config.data.name=digits", "--config.data.image_size=0", "--config.model.ch=8",
             "--config.model.ch_mult=(1,)", "--config.model.num_res_blocks=1",
             "--config.model.attn_resolutions=()", "--config.model.norm_groups=4",
             "--config.model.dropout=0.0", "--config.model.class_conditional=True",
             "--config.flow.sample_steps=2", "--config.train.batch_size=8",
             "--config.optim.warmup_steps=0", "--config.train.log_every=1",
             "--config.train.checkpoint_every=2", "--config.train.sample_every=0",
             "--config.train.num_samples=0"]


def toy(workdir, steps, *extra):
    return main(["train", "flow_toy2d", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TOY, *extra])


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    assert toy(root / "a", 4) == 0
    assert toy(root / "b", 2) == 0
    assert toy(root / "b", 4) == 0  # resumed
    return root


def test_toy_run_resumes_exactly_and_samples_with_each_solver(toy_runs, tmp_path):
    _, _, state_a = load_run(toy_runs / "a")
    _, _, state_b = load_run(toy_runs / "b")
    assert int(state_a.step) == int(state_b.step) == 4 and tree_equal(state_a, state_b)
    for run in ("a", "b"):
        assert main(["sample", str(toy_runs / run), "--solver", "rk4", "--steps", "8",
                     "--num", "12", "--seed", "3", "--out", str(tmp_path / f"{run}.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz")["points"], np.load(tmp_path / "b.npz")["points"]
    assert a.shape == (12, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    for solver in ("euler", "heun"):
        assert main(["sample", str(toy_runs / "a"), "--solver", solver, "--num", "5",
                     "--out", str(tmp_path / f"{solver}.npz")]) == 0
    assert main(["sample", str(toy_runs / "a"), "--solver", "dopri5", "--rtol", "1e-3",
                 "--atol", "1e-3", "--num", "5", "--out", str(tmp_path / "dopri5.npz")]) == 0
    assert np.isfinite(np.load(tmp_path / "dopri5.npz")["points"]).all()
    assert (toy_runs / "a" / "samples" / "step_0000004.png").exists()


@pytest.mark.parametrize("options, expected", [
    (["--solver", "rk45"], "unknown solver 'rk45'"),
    (["--solver", "dopri5", "--rtol", "0"], "--rtol and --atol must be > 0"),
    (["--steps", "0"], "--steps must be >= 1"),
    (["--label", "1"], "unconditional"),
    (["--guidance", "2.0"], "unconditional"),
])
def test_sample_options_the_model_cannot_take(capsys, toy_runs, tmp_path, options, expected):
    code = main(["sample", str(toy_runs / "a"), *options, "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("genjax: error:") and expected in err, err
    assert len(err.splitlines()) == 1, err


def test_sample_help_on_a_run_lists_its_familys_options(capsys, toy_runs):
    with pytest.raises(SystemExit):
        main(["sample", str(toy_runs / "a"), "--help"])
    out = capsys.readouterr().out
    assert "--solver" in out and "euler, heun, rk4" in out and "dopri5" in out and "tsit5" in out
    assert "--rtol" in out and "--atol" in out
    assert "--s-churn" not in out and "--top-p" not in out  # other families' options
    with pytest.raises(SystemExit):  # without a run: where to find them (and no JAX needed)
        main(["sample", "--help"])
    out = capsys.readouterr().out
    assert "--solver" not in out and "genjax sample RUN --help" in out


def test_a_bad_config_value_is_one_error_line(capsys, tmp_path):
    code = toy(tmp_path / "bad", 1, "--config.flow.time_sampling=beta")
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("genjax: error:") and "time_sampling" in err, err


def test_conditional_unet_samples_a_label_with_guidance(tmp_path):
    run = tmp_path / "cond"
    assert main(["train", "flow_mnist", "--workdir", str(run), "--config.train.steps=2",
                 *TINY_UNET]) == 0
    out = tmp_path / "threes.npz"
    assert main(["sample", str(run), "--label", "3", "--guidance", "3.0", "--solver", "heun",
                 "--steps", "2", "--num", "4", "--out", str(out)]) == 0
    images = np.load(out)["images"]
    assert images.shape == (4, 8, 8, 1) and images.dtype == np.uint8
    config, experiment, state = load_run(run)
    assert experiment.objective.num_classes == 10 and experiment.objective.clip
    from genjax.app.experiment import make_batches

    batch = make_batches(config, experiment.spec, "test", shuffle=False).batch(0)
    m = jax.jit(experiment.objective.eval_metrics)(state, batch, jax.random.PRNGKey(0))
    assert np.isfinite(float(m["loss"])) and float(m["loss"]) > 0


def test_flow_configs_build_the_documented_models():
    from genjax.app.experiment import build_objective
    from genjax.config import load_config
    from genjax.data import dataset_spec

    mnist = build_objective(load_config("flow_mnist"), dataset_spec("mnist_subset"))
    assert mnist.data_shape == (32, 32, 1) and mnist.clip and mnist.num_classes is None
    assert (mnist.model.ch, mnist.model.ch_mult, mnist.model.attn_resolutions) == (
        16, (1, 2, 2), (8,))
    assert (mnist.solver, mnist.sample_steps, mnist.time_scale) == ("heun", 25, 1000.0)
    toy = build_objective(load_config("flow_toy2d"), dataset_spec("toy2d_grid"))
    assert toy.data_shape == (2,) and not toy.clip and toy.data_key == "point"
    assert toy.model.features == 128 and toy.model.input_features == 64


REFLOW = ["--config.reflow.teacher_steps=2", "--config.reflow.teacher_solver=heun",
          "--config.reflow.pairs=512",
          "--config.train.batch_size=32", "--config.train.log_every=1",
          "--config.train.checkpoint_every=1", "--config.train.sample_every=0",
          "--config.train.num_samples=0"]


def test_reflow_of_a_cli_run_freezes_the_teacher_and_samples_in_one_step(toy_runs, tmp_path):
    # (resuming a reflow run bit for bit is the registry contract test's)
    teacher, run = toy_runs / "a", tmp_path / "reflow"
    assert main(["train", "reflow_toy2d", f"--config.model.flow_dir={teacher}", *REFLOW,
                 "--workdir", str(run), "--config.train.steps=2"]) == 0
    _, experiment, state = load_run(run)
    _, t_experiment, t_state = load_run(teacher)
    assert int(state.step) == 2 and tree_equal(state.model_state["teacher"], t_state.ema_params)
    assert state.model_state["pairs"]["x1"].shape == (512, 2)  # the pool, restored
    assert experiment.objective.model == t_experiment.objective.model
    assert not tree_equal(state.params, t_state.ema_params)  # the student moved
    out = tmp_path / "one.npz"
    assert main(["sample", str(run), "--solver", "euler", "--steps", "1", "--num", "6",
                 "--out", str(out)]) == 0
    assert np.load(out)["points"].shape == (6, 2)


@pytest.mark.parametrize("extra, expected", [
    ([], "model.flow_dir is empty"),
    (["--config.data.name=toy2d_ring"], "differs from the teacher run's"),
    (["--config.reflow.pairs=-5"], "reflow.pairs must be >= 0"),
])
def test_reflow_config_errors_are_one_line(toy_runs, tmp_path, capsys, extra, expected):
    argv = ["train", "reflow_toy2d", "--workdir", str(tmp_path / "r"), *REFLOW, *extra]
    if extra:
        argv.append(f"--config.model.flow_dir={toy_runs / 'a'}")
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("genjax: error:") and expected in err, err
