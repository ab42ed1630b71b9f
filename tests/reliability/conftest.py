"""A tiny finished run each test module trains once and each test copies."""

import shutil

import pytest

from tests.reliability import runs


@pytest.fixture(scope="module")
def toy_run_4(tmp_path_factory):
    """``genjax train gan_toy2d`` to step 4: checkpoints 2 and 4, metrics at 2 and 4."""
    root = tmp_path_factory.mktemp("toy_run_4") / "run"
    assert runs.train(root, 4) == 0
    return root


@pytest.fixture
def toy_run(toy_run_4, tmp_path):
    """A private copy of ``toy_run_4`` (``tmp_path / "run"``)."""
    return shutil.copytree(toy_run_4, tmp_path / "run")
