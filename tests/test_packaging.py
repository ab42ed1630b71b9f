"""What a user installs: `genjax --version`, the LICENSE the metadata names, py.typed, the
changelog; the wheel is built from a copy of the checkout (no network: --no-build-isolation)."""

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import genjax
from genjax.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"genjax {genjax.__version__} ")
    # the distribution is genjax-models (PyPI's genjax is another project); it imports as genjax
    assert genjax.__version__ == importlib.metadata.version("genjax-models")


def test_license_is_the_apache_2_text_the_metadata_states():
    text = (REPO / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text.split()) > 1500
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'license = "Apache-2.0"' in pyproject


def test_changelog_has_an_unreleased_section():
    assert "## [Unreleased]" in (REPO / "CHANGELOG.md").read_text()


def test_wheel_ships_py_typed_and_license_and_no_experiments_package(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "genjax", src / "genjax", ignore=ignore)
    shutil.copytree(REPO / "experiments", src / "experiments", ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", str(src), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, timeout=300)
    # the distribution genjax-models (PyPI's genjax is another project), the package genjax
    (wheel,) = (tmp_path / "dist").glob("genjax_models-*.whl")
    assert wheel.name.startswith(f"genjax_models-{genjax.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "genjax/__init__.py" in names and "genjax/_version.py" in names
    assert "genjax/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "genjax/configs/dcgan_mnist.py" in names
    assert not [n for n in names if n.startswith("experiments/")]
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "\nName: genjax-models\n" in metadata
    assert f"\nVersion: {genjax.__version__}\n" in metadata  # from genjax/_version.py
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "genjax = genjax.cli:main" in entry_points
