"""Bad input gives one ``genjax: error:`` line naming the fix, a nonzero exit code, and
loses nothing saved (issue 18, item 11; and item 9's model-size bound).

Every case of the table runs ``genjax.cli.main`` in this process against a copy of the
module's tiny ``gan_toy2d`` run (``toy_run``) or files made by the case itself.
"""

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genjax import config as gconfig
from genjax.app.evaluate import json_safe
from genjax.app.experiment import check_fits_in_memory
from genjax.cli import main
from tests.reliability import runs

CGAN = ["--config.model.g_features=(16, 8, 4)", "--config.model.d_features=(4, 8, 16)",
        "--config.train.batch_size=8", "--config.train.steps=2"]


def error_of(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("genjax: error:") and len(err.splitlines()) == 1, (
        code, err)
    return err


def saved_files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != "train.lock"}


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cgan") / "run"
    assert main(["train", "cgan_mnist", "--workdir", str(run), *CGAN]) == 0
    return run


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A small PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    Image.new("L", (2, 2)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))
    return path


def images(folder: Path, n: int, size: int = 8) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("L", (size, size), color=i).save(folder / f"{i}.png")
    return folder


# -- genjax fid: each case makes its two inputs under tmp_path ------------------------------

def fid_not_image(tmp):
    (tmp / "a.txt").write_text("hello")
    return tmp / "a.txt", images(tmp / "b", 2), "is not an .npz file"


def fid_fake_png(tmp):
    folder = images(tmp / "a", 2)
    (folder / "x.png").write_text("not a png")
    return folder, images(tmp / "b", 2), "is not a readable image"


def fid_one_image(tmp):
    return images(tmp / "a", 1), images(tmp / "b", 2), "FID needs at least 2"


def fid_bomb(tmp):
    folder = images(tmp / "a", 1)
    png_claiming(folder / "huge.png", 40_000, 40_000)
    return folder, images(tmp / "b", 2), "too large to read"


def fid_object_npz(tmp):
    np.savez(tmp / "a.npz", images=np.array([np.zeros(3), "x"], dtype=object))
    return tmp / "a.npz", images(tmp / "b", 2), "will not read"


def fid_corrupt_npz(tmp):
    (tmp / "a.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return tmp / "a.npz", images(tmp / "b", 2), "not a readable .npz"


def fid_zero_images(tmp):
    np.savez(tmp / "a.npz", images=np.zeros((0, 8, 8, 1), np.uint8))
    return tmp / "a.npz", images(tmp / "b", 2), "holds 0 image(s)"


def fid_stats_sizes(tmp):
    np.savez(tmp / "a.npz", mu=np.zeros(3), sigma=np.eye(3))
    np.savez(tmp / "b.npz", mu=np.zeros(4), sigma=np.eye(4))
    return tmp / "a.npz", tmp / "b.npz", "statistics of different sizes"


def fid_bad_stats(tmp):
    np.savez(tmp / "a.npz", mu=np.zeros(3), sigma=np.eye(4))
    return tmp / "a.npz", tmp / "a.npz", "'sigma' a float (D, D)"


FID_CASES = [fid_not_image, fid_fake_png, fid_one_image, fid_bomb, fid_object_npz,
             fid_corrupt_npz, fid_zero_images, fid_stats_sizes, fid_bad_stats]


@pytest.mark.parametrize("case", FID_CASES, ids=lambda c: c.__name__)
def test_fid_input(case, tmp_path, capsys):
    a, b, expected = case(tmp_path)
    # no Inception weights are given: the inputs are checked before the network loads
    err = error_of(capsys, ["fid", a, b, "--inception-weights", tmp_path / "absent.pth"])
    assert expected in err, err


# -- commands on a run folder: (argv after the command, expected text) ----------------------

def read_only_folder(tmp: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if not Path("/sys").is_dir():
        pytest.skip("no read-only folder for root here")
    probe = Path("/sys") / "genjax-probe"
    try:
        probe.write_text("x")
    except OSError:
        return Path("/sys")
    probe.unlink()
    pytest.skip("/sys is writable here")


RUN_CASES = {
    "sample_guidance_nan": (["sample", "{run}", "--guidance", "nan", "--out", "{tmp}/x.npz"],
                            "--guidance must be a finite number"),
    "sample_guidance_inf": (["sample", "{run}", "--guidance", "inf", "--out", "{tmp}/x.npz"],
                            "--guidance must be a finite number"),
    "sample_seed_2_32": (["sample", "{run}", "--seed", str(2**32), "--out", "{tmp}/x.npz"],
                         "0..4294967295"),
    "sample_seed_negative": (["sample", "{run}", "--seed", "-1", "--out", "{tmp}/x.npz"],
                             "0..4294967295"),
    "eval_seed_2_32": (["eval", "{run}", "--seed", str(2**33), "--metrics", "none"],
                       "0..4294967295"),
    "sample_workdir_empty": (["sample", "", "--out", "{tmp}/x.npz"], "workdir is empty"),
    "eval_workdir_empty": (["eval", "", "--metrics", "none"], "workdir is empty"),
    "sample_read_only_out": (["sample", "{run}", "--out", "{ro}/x.npz"],
                             "choose another --out"),
    "eval_read_only_out": (["eval", "{run}", "--metrics", "none", "--out", "{ro}/eval.json"],
                           "choose another --out"),
    "sample_unknown_option": (["sample", "{run}", "--label", "3", "--out", "{tmp}/x.npz"],
                              "does not take --label"),
}


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_run_command_input(name, toy_run, tmp_path, capsys):
    argv, expected = RUN_CASES[name]
    ro = read_only_folder(tmp_path) if any("{ro}" in a for a in argv) else None
    before = saved_files(toy_run)
    err = error_of(capsys, [a.format(run=toy_run, tmp=tmp_path, ro=ro) for a in argv])
    assert expected in err, err
    assert saved_files(toy_run) == before  # nothing saved lost or changed
    assert not (tmp_path / "x.npz").exists()


def test_sample_label_out_of_range(cgan_run, tmp_path, capsys):
    err = error_of(capsys, ["sample", cgan_run, "--label", "99", "--out", tmp_path / "x.png"])
    assert "label must be in 0..9, got 99" in err, err
    assert not (tmp_path / "x.png").exists()


def test_sample_with_label_still_works(cgan_run, tmp_path):
    assert main(["sample", str(cgan_run), "--label", "3", "--num", "4",
                 "--out", str(tmp_path / "x.npz")]) == 0


# -- a run folder whose config.json is damaged or crafted -----------------------------------

def with_config(run: Path, edit) -> None:
    path = run / "config.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


CONFIG_CASES = {
    "a_list": (lambda c: [1, 2], "holds a JSON list, not an object"),
    "a_number": (lambda c: 3, "holds a JSON int"),
    "family_not_a_name": (lambda c: {**c, "family": 7}, "'family' must be a family name"),
    "steps_a_string": (lambda c: {**c, "train": {**c["train"], "steps": "many"}},
                       "'train.steps' must be a int"),
    "train_not_an_object": (lambda c: {**c, "train": 5}, "'train' must be an object"),
    "seed_too_large": (lambda c: {**c, "seed": 2**32}, "0..4294967295"),
}


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_saved_config(name, toy_run, tmp_path, capsys):
    edit, expected = CONFIG_CASES[name]
    with_config(toy_run, edit)
    before = saved_files(toy_run)
    err = error_of(capsys, ["sample", toy_run, "--out", tmp_path / "x.npz"])
    assert expected in err, err
    assert saved_files(toy_run) == before


def test_vqvae_dir_pointing_at_itself(tmp_path, capsys):
    run = tmp_path / "prior"
    run.mkdir()
    config = gconfig.load_config("vqvae_prior_mnist")
    config.model.vqvae_dir = str(run)
    (run / "config.json").write_text(gconfig.to_json(config))
    err = error_of(capsys, ["sample", run, "--out", tmp_path / "x.png"])
    assert "depends on itself" in err, err


# -- genjax train refusals leave no new folder behind ---------------------------------------

TRAIN_CASES = {
    "latent_dim_0": (["--config.model.latent_dim=0"], "model.latent_dim=0: sizes must be >= 1"),
    "hidden_0": (["--config.model.g_hidden=(16, 0)"], "sizes must be >= 1"),
    "seed_2_32": ([f"--config.seed={2**32}"], "0..4294967295"),
    "unknown_dataset": (["--config.data.name=no_such_data"], "no_such_data"),
    "too_big": (["--config.model.g_hidden=(1000000, 1000000)"], "GiB"),
}


@pytest.mark.parametrize("name", sorted(TRAIN_CASES))
def test_train_refusal_leaves_no_workdir(name, tmp_path, capsys):
    extra, expected = TRAIN_CASES[name]
    workdir = tmp_path / "new" / "run"
    err = error_of(capsys, ["train", "gan_toy2d", "--workdir", workdir,
                            "--config.train.steps=2", *runs.TOY, *extra])
    assert expected in err, err
    assert not workdir.exists()


def test_train_refusal_keeps_an_existing_workdir(toy_run, capsys):
    before = saved_files(toy_run)
    error_of(capsys, ["train", "gan_toy2d", "--workdir", toy_run, "--config.train.steps=4",
                      *runs.TOY, "--config.model.latent_dim=0"])
    assert saved_files(toy_run) == before


def test_train_workdir_empty(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = error_of(capsys, ["train", "gan_toy2d", "--workdir", "", "--config.train.steps=2"])
    assert "workdir is empty" in err, err
    assert list(tmp_path.iterdir()) == []


def test_model_too_big_for_memory_names_the_estimate():
    import jax

    config = gconfig.load_config("gan_toy2d")
    shapes = {"w": jax.ShapeDtypeStruct((1024, 1024), np.float32)}  # 4 MiB
    check_fits_in_memory(shapes, config, available=2**30)
    with pytest.raises(gconfig.ConfigError, match="needs 0.0 GiB"):
        check_fits_in_memory(shapes, config, available=2**20)


# -- eval results with NaN stay valid JSON --------------------------------------------------

def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_json_safe_writes_null_for_nan():
    out = json_safe({"fid": float("nan"), "kid": np.float32("inf"), "n": np.int64(3),
                     "list": [1.0, float("-inf")]})
    assert out == {"fid": None, "kid": None, "n": 3, "list": [1.0, None]}
    strict_json(json.dumps(out, allow_nan=False))


def test_eval_with_nan_results_writes_valid_json(toy_run, capsys, monkeypatch):
    from genjax.app import evaluate

    monkeypatch.setattr(evaluate, "held_out_metrics",
                        lambda *a, **k: {"test_loss": float("nan")})
    assert main(["eval", str(toy_run), "--metrics", "none"]) == 0
    saved = strict_json((toy_run / "eval.json").read_text())
    assert saved["test_loss"] is None
    printed = strict_json(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["test_loss"] is None



def test_sample_picture_beyond_memory_is_refused(toy_run, tmp_path, capsys):
    err = error_of(capsys, ["sample", toy_run, "--num", str(10**15), "--out", tmp_path / "x.png"])
    assert "do not fit in this machine's memory" in err and "at most" in err, err
    assert "write a .npz file" in err, err
    assert not (tmp_path / "x.png").exists()


def test_sample_npz_beyond_memory_is_written_in_chunks(toy_run, tmp_path, monkeypatch):
    """A machine that could hold only 50 points at once still writes 600 into a .npz (one
    256-sample chunk at a time): the same points ``draw_samples`` holds whole."""
    import jax

    from genjax.app import sampling
    from genjax.app.experiment import load_run

    monkeypatch.setattr(sampling, "host_memory_bytes", lambda: 1600)  # 50 points
    assert main(["sample", str(toy_run), "--num", "600", "--seed", "3",
                 "--out", str(tmp_path / "big.npz")]) == 0
    assert main(["sample", str(toy_run), "--num", "600", "--out", str(tmp_path / "big.png")]) == 2
    _, experiment, state = load_run(toy_run)
    expected = sampling.draw_samples(experiment.objective, state, jax.random.PRNGKey(3), 600)
    with np.load(tmp_path / "big.npz") as saved:
        np.testing.assert_array_equal(saved["points"], expected.astype(np.float32))


def test_iter_samples_holds_one_chunk(toy_run):
    import jax

    from genjax.app.experiment import load_run
    from genjax.app.sampling import iter_samples

    _, experiment, state = load_run(toy_run)
    chunks = iter_samples(experiment.objective, state, jax.random.PRNGKey(0), 10**12, chunk=8)
    assert next(chunks).shape == (8, 2)  # lazily: nothing of the other 10**12 exists


def test_npz_rows_match_numpy_savez(tmp_path):
    from genjax.modalities import write_npz_rows

    rng = np.random.default_rng(0)
    data = rng.integers(0, 255, (37, 4, 3, 1), dtype=np.uint8)
    write_npz_rows(tmp_path / "a.npz", "images", np.array_split(data, 5), len(data))
    np.savez_compressed(tmp_path / "b.npz", images=data)  # the reference writer
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert a.files == b.files
        np.testing.assert_array_equal(a["images"], b["images"])
        assert a["images"].dtype == b["images"].dtype
    with pytest.raises(ValueError, match="expected 40 samples, the sampler gave 37"):
        write_npz_rows(tmp_path / "c.npz", "images", [data], 40)
    with pytest.raises(ValueError, match="changed from"):
        write_npz_rows(tmp_path / "d.npz", "images", [data, data[:, :2]], 2 * len(data))


def test_max_samples_counts_the_sample_size(toy_run):
    from genjax.app.experiment import load_run
    from genjax.app.sampling import max_samples

    _, experiment, state = load_run(toy_run)
    # a point is 2 float32 (8 bytes), held twice: 16 bytes; half of 1600 bytes -> 50
    assert max_samples(experiment.objective, state, available=1600) == 50


def test_train_with_read_only_data_dir(tmp_path, capsys):
    data_dir = read_only_folder(tmp_path) / "genjax-data"
    workdir = tmp_path / "run"
    err = error_of(capsys, ["train", "gan_toy2d", "--workdir", workdir, "--config.train.steps=2",
                            *runs.TOY, f"--config.data.data_dir={data_dir}"])
    assert "make that folder writable" in err, err
    assert not workdir.exists()
