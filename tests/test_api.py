"""The Python API (genjax.train / genjax.load): the README's snippet runs as written, the run
folder is the command line's, samples match `genjax sample`, and `import genjax` stays light."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import genjax
from genjax.cli import main
from genjax.config import ConfigError, load_config

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_api_snippet() -> str:
    section = README.read_text().split("### As a library", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def snippet_run(tmp_path_factory):
    """The README's snippet executed as written, in a fresh folder."""
    root = tmp_path_factory.mktemp("api")
    code = readme_api_snippet()
    assert "genjax.train(" in code and "genjax.load(" in code
    cwd = Path.cwd()
    import os

    os.chdir(root)
    try:
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    return root, namespace


def test_readme_snippet_writes_the_command_lines_run_folder(snippet_run, tmp_path, capsys):
    root, namespace = snippet_run
    run = root / "runs" / "toy2d"
    assert (run / "config.json").exists() and (run / "plots" / "losses.png").exists()
    assert (root / "toy2d.png").stat().st_size > 0
    # the same command on the command line: the same config.json and the same model
    assert main(["train", "gan_toy2d", "--workdir", str(tmp_path / "cli"),
                 "--config.train.steps=20"]) == 0
    assert json.loads((run / "config.json").read_text()) == json.loads(
        (tmp_path / "cli" / "config.json").read_text())
    # genjax sample takes the API's folder, and draws what Model.sample draws
    assert main(["sample", str(run), "--num", "500", "--seed", "0",
                 "--out", str(tmp_path / "p.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npz")["points"], namespace["points"])
    assert main(["sample", str(tmp_path / "cli"), "--num", "500", "--seed", "0",
                 "--out", str(tmp_path / "q.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "q.npz")["points"], namespace["points"])


def test_model_reports_and_refuses_clearly(snippet_run):
    root, _ = snippet_run
    model = genjax.load(root / "runs" / "toy2d")
    assert model.family == "gan" and model.step == 20 and model.config["train"]["steps"] == 20
    assert "gan" in repr(model) and model.sample_options == ()  # unconditional
    assert model.sample(3, seed=1).shape == (3, 2)
    with pytest.raises(TypeError, match="does not take sampler; its sample takes no options"):
        model.sample(3, sampler="ddim")
    with pytest.raises(ValueError, match="has no reconstructions"):
        model.reconstruct(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="--out must end in"):
        model.save(model.sample(3), root / "x.jpg")


def test_model_eval_is_the_eval_command(snippet_run, tmp_path, capsys):
    root, _ = snippet_run
    run = root / "runs" / "toy2d"
    results = genjax.load(run).eval(num_samples=300, metrics="modes", out=tmp_path / "a.json")
    assert main(["eval", str(run), "--num-samples", "300", "--metrics", "modes",
                 "--out", str(tmp_path / "b.json")]) == 0
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a.pop("eval_seconds") > 0 and b.pop("eval_seconds") > 0
    assert a == b
    assert results["num_samples"] == 300 and 0 <= results["modes"] <= results["num_modes"]
    with pytest.raises(ConfigError, match="unknown config key 'eval.num_sample'"):
        genjax.load(run).eval(num_sample=3)


def test_train_takes_a_config_dict_and_dotted_overrides_and_resumes(snippet_run, tmp_path):
    root, _ = snippet_run
    config = load_config("gan_toy2d")
    before = config.to_dict()
    with pytest.raises(ConfigError, match="unknown config key 'train.stpes'"):
        genjax.train(config, tmp_path / "bad", train__stpes=3)
    assert not (tmp_path / "bad").exists()  # refused before anything is written
    with pytest.raises(ConfigError, match="expected a value of type int"):
        genjax.train(config, tmp_path / "bad", **{"train.steps": "many"})
    # a finished run re-run through the API trains nothing and loads it
    model = genjax.train("gan_toy2d", root / "runs" / "toy2d", **{"train.steps": 20})
    assert model.step == 20
    assert config.to_dict() == before  # the caller's ConfigDict is never changed


def test_import_genjax_imports_no_jax():
    code = ("import sys, genjax\n"
            "assert genjax.__version__\n"
            "assert 'jax' not in sys.modules and 'genjax.api' not in sys.modules\n"
            "assert callable(genjax.train) and callable(genjax.load)\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
