"""Run folders someone else controls (issue 18, item 10): sample files are replaced, not
written through a planted symlink; a ``data.data_dir`` from a run's config.json is data,
never code (TFDS metadata naming a module outside tensorflow_datasets is refused before
anything imports it)."""

import json
import shutil
import sys
import textwrap

import numpy as np
import pytest

from genjax.cli import main
from genjax.data import DatasetError, dataset_spec, load_source
from genjax.modalities import modalities
from tests.reliability import runs

MARKER_MODULE = "genjax_test_marker_module"


def plant_link(path, victim):
    path.parent.mkdir(parents=True, exist_ok=True)
    victim.write_text("precious")
    path.symlink_to(victim)


def test_loop_sample_file_replaces_a_planted_symlink(toy_run, tmp_path):
    victim = tmp_path / "victim.txt"
    link = toy_run / "samples" / "step_0000006.png"  # the sample file the resumed run writes
    plant_link(link, victim)
    assert runs.train(toy_run, 6) == 0
    assert victim.read_text() == "precious"
    assert link.is_file() and not link.is_symlink()
    assert link.read_bytes().startswith(b"\x89PNG")
    assert not list((toy_run / "samples").glob(".*.tmp-*"))


@pytest.mark.parametrize("suffix", [".png", ".npz"])
def test_modality_save_replaces_a_planted_symlink(tmp_path, suffix):
    victim = tmp_path / "victim.txt"
    link = tmp_path / "out" / f"samples{suffix}"
    plant_link(link, victim)
    modalities()["points"].save(np.zeros((8, 2), np.float32), link)
    assert victim.read_text() == "precious" and not link.is_symlink()
    assert sorted(p.name for p in link.parent.iterdir()) == [link.name]


def test_sample_out_replaces_a_planted_symlink(toy_run, tmp_path):
    victim = tmp_path / "victim.txt"
    link = tmp_path / "x.npz"
    plant_link(link, victim)
    assert main(["sample", str(toy_run), "--num", "8", "--out", str(link)]) == 0
    assert victim.read_text() == "precious" and not link.is_symlink()
    with np.load(link) as data:
        assert data["points"].shape == (8, 2)


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """A module on sys.path that writes ``marker`` if anything imports it."""
    code = tmp_path / "code"
    code.mkdir()
    marker = tmp_path / "imported"
    (code / f"{MARKER_MODULE}.py").write_text(textwrap.dedent(f"""
        from pathlib import Path
        Path({str(marker)!r}).write_text("imported")
    """))
    monkeypatch.syspath_prepend(str(code))
    yield marker
    sys.modules.pop(MARKER_MODULE, None)


def crafted_data_dir(tmp_path, name):
    """A prepared dataset ``name`` (toy2d_ring's files) whose features.json names the marker
    module as a feature class."""
    data_dir = tmp_path / "data"
    dataset_spec("toy2d_ring", data_dir)
    version = next((data_dir / "toy2d_ring").iterdir())
    if name != "toy2d_ring":
        target = data_dir / name / version.name
        shutil.copytree(version, target)
        for f in target.glob("toy2d_ring-*"):
            f.rename(f.with_name(f.name.replace("toy2d_ring", name)))
        info = json.loads((target / "dataset_info.json").read_text())
        (target / "dataset_info.json").write_text(json.dumps({**info, "name": name}))
        version = target
    features = json.loads((version / "features.json").read_text())
    features["pythonClassName"] = f"{MARKER_MODULE}.Feature"
    (version / "features.json").write_text(json.dumps(features))
    return data_dir


@pytest.mark.parametrize("name", ["toy2d_ring", "crafted_set"])
def test_dataset_metadata_naming_a_module_is_refused(name, tmp_path, marker):
    data_dir = crafted_data_dir(tmp_path, name)
    for read in (lambda: dataset_spec(name, data_dir),
                 lambda: load_source(name, "train", data_dir)):
        with pytest.raises(DatasetError, match=f"{MARKER_MODULE}.Feature"):
            read()
    assert not marker.exists()


def test_sample_with_a_crafted_data_dir_imports_nothing(toy_run, tmp_path, marker, capsys):
    data_dir = crafted_data_dir(tmp_path, "crafted_set")
    path = toy_run / "config.json"
    config = json.loads(path.read_text())
    config["data"].update(name="crafted_set", data_dir=str(data_dir))
    path.write_text(json.dumps(config))
    code = main(["sample", str(toy_run), "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("genjax: error:") and len(err.splitlines()) == 1, err
    assert "does not import code" in err
    assert not marker.exists() and not (tmp_path / "x.npz").exists()
