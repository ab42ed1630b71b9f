"""The named configs install as ``genjax.configs`` (from experiments/configs/), never as a
top-level ``experiments`` package. Checks the checkout and its (editable) install; installs
nothing itself."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from genjax import config as C

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "experiments" / "configs"
NAMES = sorted(p.stem for p in CONFIG_DIR.glob("*.py") if not p.name.startswith("_"))


def _configs_package():
    try:
        return importlib.import_module("genjax.configs")
    except ModuleNotFoundError as e:  # pragma: no cover - the message is the point
        pytest.fail(f"genjax.configs is not importable ({e}); install the checkout with "
                    "`pip install -e .` after changing pyproject.toml")


def test_there_are_named_configs():
    assert "dcgan_mnist" in NAMES and len(NAMES) >= 10, NAMES


def test_genjax_configs_is_the_repository_folder():
    package = _configs_package()
    assert Path(package.__file__).resolve() == CONFIG_DIR / "__init__.py"
    assert [Path(p).resolve() for p in package.__path__] == [CONFIG_DIR]
    assert package.__doc__ and "genjax.configs" in package.__doc__


@pytest.mark.parametrize("name", NAMES)
def test_named_config_imports_as_genjax_configs(name):
    _configs_package()
    module = importlib.import_module(f"genjax.configs.{name}")
    assert Path(module.__file__).resolve() == CONFIG_DIR / f"{name}.py"
    assert callable(module.get_config)


def test_list_configs_finds_every_config_file():
    assert sorted(C.list_configs()) == NAMES


def test_configs_need_no_experiments_package():
    # A fresh interpreter in which `experiments` cannot be imported at all (in this process the
    # repository root is on sys.path, so `experiments` would import as a namespace package).
    code = f"""
import importlib, importlib.abc, sys

class NoExperiments(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "experiments" or fullname.startswith("experiments."):
            raise ImportError("the experiments package must not be imported: " + fullname)
        return None

sys.meta_path.insert(0, NoExperiments())
from genjax import config
names = sorted(config.list_configs())
assert names == {NAMES!r}, names
for name in names:
    config.load_config(name)
leaked = sorted(m for m in sys.modules if m == "experiments" or m.startswith("experiments."))
assert not leaked, leaked
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
