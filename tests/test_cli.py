"""The command line end to end: train, resume exactly, sample, and one clear error per misuse."""

import json
import shutil

import numpy as np
import pytest

from genjax.cli import main

# A DCGAN small enough for CI: real mnist_subset digits, narrow layers, tiny batches.
TINY = ["--config.train.batch_size=8", "--config.model.g_features=(16, 8, 4)",
        "--config.model.d_features=(4, 8, 16)", "--config.train.log_every=1",
        "--config.train.checkpoint_every=2", "--config.train.sample_every=2",
        "--config.train.num_samples=16"]


def train(workdir, steps, *extra):
    return main(["train", "dcgan_mnist", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TINY, *extra])


def error_of(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("genjax: error:") and len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run a: 4 steps straight. Run b: 2 steps, then resumed to 4."""
    root = tmp_path_factory.mktemp("runs")
    assert train(root / "a", 4) == 0
    assert train(root / "b", 2) == 0
    assert train(root / "b", 4) == 0
    return root


def test_train_writes_the_run_folder(runs):
    a = runs / "a"
    assert (a / "config.json").exists() and (a / "plots" / "losses.png").exists()
    assert sorted(p.name for p in (a / "samples").iterdir()) == [
        "progress.gif", "step_0000002.png", "step_0000004.png"]
    records = [json.loads(line) for line in (a / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert all(np.isfinite(r["d_loss"]) and r["steps_per_sec"] > 0 for r in records)
    saved = json.loads((a / "config.json").read_text())
    assert saved["train"]["batch_size"] == 8 and saved["family"] == "gan"


def test_resumed_run_samples_identically(runs, tmp_path):
    for run in ("a", "b"):
        assert main(["sample", str(runs / run), "--num", "10", "--seed", "5",
                     "--out", str(tmp_path / f"{run}.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz")["images"], np.load(tmp_path / "b.npz")["images"]
    assert a.shape == (10, 32, 32, 1) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert main(["sample", str(runs / "a"), "--num", "9", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0


def test_configs_command_lists_summaries(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    assert "dcgan_mnist" in out and "DCGAN" in out
    # whole first paragraphs, wrapped, never cut mid-sentence
    joined = " ".join(line.strip() for line in out.splitlines())
    assert ("maxout discriminator (3 x 200, 5 pieces), Adam(1e-4, beta1 0.8), batch 100, on "
            "toy2d_ring.") in joined
    assert "genjax configs NAME" in out
    assert main(["configs", "--families"]) == 0
    out = capsys.readouterr().out
    assert "gan " in out and "ddpm" in out and "--sampler" in out


def test_configs_name_prints_every_resolved_key_with_its_default_and_doc(capsys):
    from genjax.config import flatten, load_config

    assert main(["configs", "dcgan_mnist"]) == 0
    out = capsys.readouterr().out
    keys = {line.split("=")[0].strip(): line for line in out.splitlines()
            if line.startswith("  ") and " = " in line}
    assert set(keys) == set(flatten(load_config("dcgan_mnist")))
    assert "= 900" in keys["train.steps"] and "= (256, 128, 64)" in keys["model.g_features"]
    assert keys["model.arch"].endswith("# dcgan | mlp | progressive")  # the schema's comment
    assert keys["data.image_size"].endswith("# pad 28 -> 32")  # the family's over the base's
    assert "#" not in keys["seed"]
    err = error_of(capsys, ["configs", "dcgan_mnst"])
    assert "Did you mean dcgan_mnist" in err


def test_configs_of_a_config_file_shows_its_own_and_its_schemas_docs(capsys, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text('"""My narrower DCGAN."""\n'
                    "from genjax.families.gan.config import gan_config\n\n\n"
                    "def get_config():\n"
                    "    config = gan_config()\n"
                    "    config.train.steps = 5  # a smoke test\n"
                    "    return config\n")
    assert main(["configs", str(path)]) == 0
    out = capsys.readouterr().out
    header = " ".join(out.split("\n\n")[0].split())  # wrapped at spaces only
    assert header.startswith(f"{path}: My narrower DCGAN."), out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if " = " in line}
    assert "= 5 " in lines["train.steps"] and lines["train.steps"].endswith("# a smoke test")
    assert lines["model.arch"].endswith("# dcgan | mlp | progressive")


def test_help_version_and_configs_import_no_jax():
    """What makes `--help` and `genjax configs` start in a fraction of a second (timed in
    benchmarks/startup.py): none of them imports JAX."""
    import subprocess
    import sys

    code = ("import sys; from genjax.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['configs'], ['--version'],\n"
            "             ['sample', '--help'], ['eval', '--help'], ['export', '--help'],\n"
            "             ['fid', '--help'], ['sample', 'no/such/run', '--help']):\n"
            "    try:\n"
            "        main(argv)\n"
            "    except SystemExit:\n"
            "        pass\n"
            "assert 'jax' not in sys.modules, 'jax imported'\n"
            "assert 'genjax.families' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_configs_name_imports_no_jax():
    """`genjax configs NAME` reads a family's config module only: the family packages keep
    their networks and FAMILIES behind `genjax.core.registry.lazy_package`."""
    import subprocess
    import sys

    code = ("import sys; from genjax import config as C; from genjax.cli import main\n"
            "for name in sorted(C.list_configs()):\n"
            "    assert main(['configs', name]) == 0, name\n"
            "assert 'jax' not in sys.modules, 'jax imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)


def test_every_command_has_help(capsys):
    for argv in (["--help"], ["train", "--help"], ["sample", "--help"], ["configs", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
    assert "--workdir" in capsys.readouterr().out


@pytest.mark.parametrize("argv_tail, expected", [
    (["dcgan_mnst"], "unknown config 'dcgan_mnst'. Did you mean dcgan_mnist"),
    (["dcgan_mnist", "--config.train.stpes=3"], "unknown config key 'train.stpes'"),
    (["dcgan_mnist", "--config.train.steps=many"], "expected a value of type int"),
    (["dcgan_mnist", "--config.data.name=mnist_subsett"], "mnist_subset"),
    (["dcgan_mnist", "--config.data.name=toy2d_ring"], "needs image data"),
    (["dcgan_mnist", "--config.data.image_size=20"], "larger than the requested size 20"),
    (["dcgan_mnist", "--config.data.image_size=48"], "4 * 2**"),
])
def test_bad_input_gets_one_clear_error(capsys, tmp_path, argv_tail, expected):
    err = error_of(capsys, ["train", *argv_tail, "--workdir", str(tmp_path / "w")])
    assert expected in err
    assert not (tmp_path / "w" / "config.json").exists()  # nothing half-written


def test_unwritable_workdir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    err = error_of(capsys, ["train", "dcgan_mnist", "--workdir", str(blocker / "run")])
    assert "not writable" in err and "--workdir" in err


def test_conflicting_config_is_refused_unless_allowed(capsys, tmp_path):
    assert train(tmp_path, 2) == 0
    err = error_of(capsys, ["train", "dcgan_mnist", "--workdir", str(tmp_path),
                            "--config.train.steps=3", *TINY, "--config.optim.g_lr=0.1"])
    assert "optim.g_lr" in err and "--allow-config-change" in err
    assert json.loads((tmp_path / "config.json").read_text())["optim"]["g_lr"] == 4e-4
    # a change that fails to build keeps the saved config in place
    err = error_of(capsys, ["train", "dcgan_mnist", "--workdir", str(tmp_path), *TINY,
                            "--config.data.name=nope", "--allow-config-change"])
    assert json.loads((tmp_path / "config.json").read_text())["optim"]["g_lr"] == 4e-4
    assert train(tmp_path, 3, "--config.optim.g_lr=0.1", "--allow-config-change") == 0
    assert list(tmp_path.glob("config.before-*.json")), "the old config is kept"


def test_nan_loss_stops_with_step_and_keeps_checkpoint(capsys, tmp_path):
    assert train(tmp_path, 2) == 0
    # lr=inf: step 3 updates D to non-finite weights, so its G loss is already NaN
    code = train(tmp_path, 6, "--config.optim.g_lr=inf", "--config.optim.d_lr=inf",
                 "--allow-config-change")
    err = capsys.readouterr().err
    assert code == 1 and "not finite at step 3" in err and "step 2" in err
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()
                  if p.name.isdigit()) == ["2"]


def test_sample_from_a_folder_that_is_not_a_run(capsys, tmp_path):
    err = error_of(capsys, ["sample", str(tmp_path), "--out", str(tmp_path / "x.png")])
    assert "not a run folder" in err


def test_named_config_wins_over_a_folder_of_the_same_name(tmp_path, monkeypatch):
    from genjax.config import load_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dcgan_mnist").mkdir()  # e.g. --workdir dcgan_mnist
    assert load_config("dcgan_mnist").family == "gan"


def test_sample_refuses_a_broken_config_json(capsys, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    err = error_of(capsys, ["sample", str(tmp_path), "--out", str(tmp_path / "x.png")])
    assert "not valid JSON" in err


def test_sampler_option_the_family_does_not_take(capsys, runs, tmp_path):
    err = error_of(capsys, ["sample", str(runs / "a"), "--label", "3",
                            "--out", str(tmp_path / "x.png")])
    assert "this 'gan' model does not take --label" in err and "no options" in err
    assert not (tmp_path / "x.png").exists()
    # a refused command leaves no folder it would have made for --out
    error_of(capsys, ["sample", str(runs / "a"), "--label", "3",
                      "--out", str(tmp_path / "new" / "sub" / "x.png")])
    assert not (tmp_path / "new").exists()
    error_of(capsys, ["eval", str(runs / "a"), "--metrics", "bogus",
                      "--out", str(tmp_path / "new" / "e.json")])
    assert not (tmp_path / "new").exists()


def test_finished_run_rerun_trains_nothing_and_keeps_its_config(capsys, runs, tmp_path):
    run = tmp_path / "a"
    shutil.copytree(runs / "a", run)
    saved = (run / "config.json").read_bytes()
    capsys.readouterr()
    for steps in (2, 4):  # fewer steps than trained (a default below an override), the same
        assert train(run, steps) == 0
        out = capsys.readouterr().out
        assert f"already trained to step 4 (train.steps is {steps}); nothing to train" in out
        assert "training dcgan_mnist" not in out and "genjax: done" not in out
        assert (run / "config.json").read_bytes() == saved  # not rewritten to 2 steps
    assert [r["step"] for r in map(json.loads, (run / "metrics.jsonl").open())] == [1, 2, 3, 4]
    assert train(run, 5) == 0
    out = capsys.readouterr().out
    assert "from step 4 to step 5" in out and "genjax: done" in out
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 5


def old_dcgan_config(saved: dict) -> dict:
    """A ``gan`` run's config.json as the former ``dcgan`` family wrote it (same model)."""
    old = {k: v for k, v in saved.items() if k not in ("gan", "model", "optim")}
    model, optim = saved["model"], saved["optim"]
    assert model["arch"] == "dcgan" and optim["g_lr"] == optim["d_lr"]
    old["family"] = "dcgan"
    old["model"] = {"latent_dim": model["latent_dim"], "g_features": model["g_features"],
                    "d_features": model["d_features"], "g_loss": saved["gan"]["loss"],
                    "ema_decay": saved["gan"]["ema_decay"]}
    old["optim"] = {"lr": optim["g_lr"], "b1": optim["b1"], "b2": optim["b2"]}
    return old


def test_a_run_of_the_former_dcgan_family_samples_and_resumes(runs, tmp_path):
    run = tmp_path / "old"
    shutil.copytree(runs / "a", run)
    saved = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(old_dcgan_config(saved)))
    for folder in (runs / "a", run):  # its checkpoints load unchanged
        assert main(["sample", str(folder), "--num", "6", "--seed", "2",
                     "--out", str(tmp_path / f"{folder.name}.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npz")["images"],
                                  np.load(tmp_path / "old.npz")["images"])
    assert train(run, 6) == 0  # resumes without a config conflict
    assert json.loads((run / "config.json").read_text()) == {
        **saved, "train": {**saved["train"], "steps": 6}}
    [before] = run.glob("config.before-*.json")  # the original is kept
    assert json.loads(before.read_text())["family"] == "dcgan"
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_pmap_run_samples_and_evaluates_unmapped(tmp_path):
    run = tmp_path / "pmap"
    assert main(["train", "dcgan_mnist", "--workdir", str(run), "--config.train.steps=1",
                 "--config.parallel=pmap", *TINY]) == 0
    assert main(["sample", str(run), "--num", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 32, 32, 1)
    assert main(["eval", str(run), "--metrics", "none"]) == 0
    assert np.isfinite(json.loads((run / "eval.json").read_text())["test_d_loss"])


def test_sample_into_a_folder_writes_one_png_per_sample(capsys, tmp_path):
    from PIL import Image

    run = tmp_path / "run"
    assert train(run, 1) == 0
    folder = tmp_path / "pngs"
    assert main(["sample", str(run), "--num", "5", "--seed", "3", "--out", f"{folder}/"]) == 0
    assert main(["sample", str(run), "--num", "5", "--seed", "3",
                 "--out", str(tmp_path / "s.npz")]) == 0
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"sample_{i:05d}.png" for i in range(5)]
    expected = np.load(tmp_path / "s.npz")["images"]  # the same draws, uint8 NHWC
    for f, image in zip(files, expected, strict=True):
        with Image.open(f) as img:
            np.testing.assert_array_equal(np.asarray(img), image[..., 0])  # own size, gray
    before = files[0].read_bytes()
    err = error_of(capsys, ["sample", str(run), "--num", "2", "--seed", "4", "--out", str(folder)])
    assert "already holds 5 sample files" in err and files[0].read_bytes() == before
