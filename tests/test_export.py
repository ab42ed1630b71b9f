"""genjax export: one file, without optimizer states or a discriminator, that samples exactly
as its run does on a machine without the dataset or the run folder; bad files are refused
with one line."""

import json
import shutil
import zipfile

import numpy as np
import pytest

import genjax
from genjax.app.export import FORMAT_VERSION
from genjax.cli import main
from genjax.core.files import WorkdirError

TINY = {
    "gan_toy2d": ["--config.train.steps=3"],
    "ddpm_toy2d": ["--config.train.steps=3", "--config.train.batch_size=16",
                   "--config.model.features=16", "--config.model.num_layers=1",
                   "--config.model.input_features=8", "--config.diffusion.timesteps=10",
                   "--config.diffusion.sample_steps=5",
                   "--config.train.num_samples=16"],
    "vae_mnist": ["--config.train.steps=3", "--config.data.name=digits",
                  "--config.model.latent_dim=4", "--config.model.enc_features=(4, 8)",
                  "--config.model.dec_features=(8, 4)", "--config.model.hidden=16",
                  "--config.train.batch_size=16", "--config.train.num_samples=4",
                  "--config.train.eval_every=0"],
}
# (python options, the same on the command line)
OPTIONS = {"gan_toy2d": ({}, []), "vae_mnist": ({}, []),
           "ddpm_toy2d": ({"sampler": "ddim", "steps": 4}, ["--sampler", "ddim", "--steps", "4"])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    for name, overrides in TINY.items():
        assert main(["train", name, "--workdir", str(root / name), *overrides]) == 0
    return root


def _header(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("header.json")), zf.namelist()


@pytest.mark.parametrize("name", sorted(TINY))
def test_export_samples_like_its_run_without_dataset_or_run(name, runs, tmp_path, monkeypatch,
                                                            capsys):
    run, out = runs / name, tmp_path / "model.genjax"
    options, flags = OPTIONS[name]
    expected = genjax.load(run).sample(40, seed=3, **options)
    inputs = np.linspace(-1, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    reconstructed = genjax.load(run).reconstruct(inputs, seed=1) if name == "vae_mnist" else None
    assert main(["sample", str(run), "--num", "40", "--seed", "3", *flags,
                 "--out", str(tmp_path / "run.npz")]) == 0
    assert main(["export", str(run), "--out", str(out)]) == 0
    assert "left out" in capsys.readouterr().out
    header, names = _header(out)
    assert header["format_version"] == FORMAT_VERSION
    assert header["family"] == header["config"]["family"] == name.split("_")[0]
    assert header["config"] == json.loads((run / "config.json").read_text())
    paths = [leaf["path"] for leaf in header["leaves"]]
    assert paths and len(names) == 1 + len(paths) < header["num_leaves"]
    assert not any("opt_state" in p or "discriminator" in p for p in paths), paths
    if name == "ddpm_toy2d":  # the EMA weights sample; the raw ones stay behind
        assert all(p.startswith(".ema_params") for p in paths), paths
    # a machine without the run and without the dataset: the run moved away, an empty data dir
    moved = shutil.move(run, tmp_path / "elsewhere")
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("GENJAX_DATA_DIR", str(empty))
    try:
        model = genjax.load(out)
        assert model.family == header["family"] and model.step == 3
        np.testing.assert_array_equal(model.sample(40, seed=3, **options), expected)
        assert main(["sample", str(out), "--num", "40", "--seed", "3", *flags,
                     "--out", str(tmp_path / "x.npz")]) == 0
        with np.load(tmp_path / "x.npz") as got, np.load(tmp_path / "run.npz") as want:
            assert got.files == want.files
            for key in want.files:
                np.testing.assert_array_equal(got[key], want[key])
        if reconstructed is not None:  # the encoder is exported too: it reconstructs
            np.testing.assert_array_equal(model.reconstruct(inputs, seed=1), reconstructed)
        with pytest.raises(ValueError, match="is an export"):
            model.eval()
    finally:
        shutil.move(moved, run)
    assert list(empty.iterdir()) == []  # no dataset was built or read


def test_bad_exports_are_refused_in_one_line(runs, tmp_path, capsys):
    good = tmp_path / "good.genjax"
    assert genjax.load(runs / "gan_toy2d").export(good) == good
    header, names = _header(good)

    newer = tmp_path / "newer.genjax"
    header["format_version"] = FORMAT_VERSION + 1
    with zipfile.ZipFile(newer, "w") as dst, zipfile.ZipFile(good) as src:
        for n in names:
            dst.writestr(n, json.dumps(header) if n == "header.json" else src.read(n))
    data = good.read_bytes()
    truncated = tmp_path / "truncated.genjax"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = tmp_path / "flipped.genjax"
    with zipfile.ZipFile(good) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    damaged[start + info.compress_size // 2] ^= 0xFF
    flipped.write_bytes(bytes(damaged))
    for bad, message in [(newer, f"export of format version {FORMAT_VERSION + 1} "),
                         (truncated, "damaged or truncated"), (flipped, "damaged or truncated")]:
        capsys.readouterr()
        assert main(["sample", str(bad), "--num", "4", "--out", str(tmp_path / "s.npz")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("genjax: error: ") and message in err and err.count("\n") == 1
        with pytest.raises(WorkdirError, match=message):
            genjax.load(bad)
    # a file that is no zip at all
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(WorkdirError, match="not a readable genjax export"):
        genjax.load(tmp_path / "notes.txt")


def test_models_that_cannot_be_exported_are_refused_in_one_line(tmp_path, capsys):
    from genjax.families.vqvae.config import smallest_prior_config, smallest_vqvae_config

    vqvae = tmp_path / "vqvae"
    genjax.train(smallest_vqvae_config(), vqvae, train__steps=2)
    prior = tmp_path / "prior"
    genjax.train(smallest_prior_config({"vqvae": vqvae}), prior, train__steps=2)
    capsys.readouterr()
    for run, message in [(vqvae, "cannot be exported: "), (prior, "builds on another run")]:
        assert main(["export", str(run), "--out", str(tmp_path / "m.genjax")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("genjax: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m.genjax").exists()


class _Reader:
    """A two-array objective: ``sample`` reads ``a``, and ``b`` only with ``both=True``."""

    data_key = "point"

    def __init__(self):
        from genjax.core.objective import Capabilities, SampleOption

        self.capabilities = Capabilities(sample_options=(SampleOption("both", bool, "b too"),))

    def sample(self, state, key, num, both=False):
        import jax.numpy as jnp

        out = jnp.broadcast_to(state["a"], (num, 2))
        return out + state["b"] if both else out


def test_only_the_arrays_sampling_reads_are_kept_and_others_are_refused():
    import jax
    import jax.numpy as jnp

    from genjax.app.export import ExportedObjective, used_leaves

    state = {"a": jnp.array([1.0, 2.0]), "b": jnp.array([10.0, 20.0]), "c": jnp.zeros(3)}
    leaves, treedef = jax.tree_util.tree_flatten(state)  # a, b, c
    shapes = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in leaves]
    objective = _Reader()
    key = jax.random.PRNGKey(0)
    assert used_leaves(lambda s: objective.sample(s, key, 2), treedef, shapes) == {0}
    assert used_leaves(lambda s: objective.sample(s, key, 2, both=True), treedef, shapes) == {0, 1}
    exported = ExportedObjective(objective, treedef, shapes, [0], ["['a']", "['b']", "['c']"],
                                 {})
    np.testing.assert_array_equal(exported.sample((leaves[0],), key, 3), [[1.0, 2.0]] * 3)
    with pytest.raises(ValueError, match=r"does not hold the arrays \(\['b'\]\)"):
        exported.sample((leaves[0],), key, 3, both=True)
