"""One contract for every registered family (the optax ``_common_test`` idea).

Parametrised over ``genjax.families.families()``: a new family folder gets these checks for
free. Each family's declared smallest config is trained through the command line 2 steps
straight and 1 + 1 steps with a resume; the two final states must be bit-identical. Then its
samples are written in every format its data's modality offers (or, for a family that
declares it cannot sample, ``genjax sample`` says why in one line), and ``genjax eval``
reports held-out numbers and, when the family samples (or translates the test split's
sources, ``Capabilities.reconstruct_from``), the modality's sample metrics.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from genjax import config as gconfig
from genjax.app.experiment import load_run
from genjax.cli import main
from genjax.families import families
from genjax.modalities import modalities
from tests.helpers import tree_equal

FAMILIES = {f.name: f for f in families().values()}  # aliases dropped
#: The family of the modalities' domain feature networks (their sample metrics).
FEATURE_NETWORK = "classifier"
BOOKKEEPING = {"workdir", "step", "family", "dataset", "test_examples", "eval_seconds",
               "num_samples"}


def config_file(folder: Path, config) -> Path:
    """A ``get_config()`` file holding ``config`` as JSON, for ``genjax train``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.py"
    path.write_text("from genjax.config import from_json\n\n\ndef get_config():\n"
                    f"    return from_json({gconfig.to_json(config)!r})\n")
    return path


def contract_config(name: str, runs: dict):
    """The family's smallest config with the contract's cadence: 2 steps, a checkpoint and
    a sample file at every step."""
    family = FAMILIES[name]
    config = family.smallest({need: runs[need] for need in family.needs})
    config.train.update({"steps": 2, "log_every": 1, "checkpoint_every": 1,
                         "sample_every": 1, "eval_every": 0})
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``name -> run folder`` of families trained straight (2 steps), trained on demand."""
    root = tmp_path_factory.mktemp("contract")
    done: dict[str, Path] = {}

    def trained(name: str) -> Path:
        if name not in done:
            for need in FAMILIES[name].needs:
                trained(need)
            workdir = root / name / "straight"
            path = config_file(root / name / "config", contract_config(name, done))
            assert main(["train", str(path), "--workdir", str(workdir)]) == 0
            done[name] = workdir
        return done[name]

    trained.root = root
    trained.done = done
    return trained


@pytest.fixture(scope="module")
def domain_runs(tmp_path_factory):
    """``domain_runs(modality, dataset)``: a 2-step run of the modality's domain classifier
    recipe (``Modality.domain_classifier``), trained once per modality on the first labelled
    dataset evaluated (a narrow network: the contract checks the plumbing)."""
    from genjax.app.domain import domain_classifier_config

    root = tmp_path_factory.mktemp("domain")
    done: dict[str, Path] = {}

    def trained(modality, dataset: str) -> Path:
        if modality.name not in done:
            config = domain_classifier_config(dataset)
            config.train.update({"steps": 2, "batch_size": 16, "log_every": 1,
                                 "checkpoint_every": 2, "eval_every": 0})
            config.model.features = 16
            workdir = root / modality.name
            path = config_file(root / f"{modality.name}_config", config)
            assert main(["train", str(path), "--workdir", str(workdir)]) == 0
            done[modality.name] = workdir
        return done[modality.name]

    return trained


def test_every_family_declares_what_the_contract_needs():
    assert FEATURE_NETWORK in FAMILIES and FAMILIES
    for family in FAMILIES.values():
        assert family.modalities and set(family.modalities) <= set(modalities()), family.name
        assert "fp32" in family.precisions and family.objectives, family.name
        assert set(family.needs) <= set(FAMILIES) - {family.name}, family.name
        for objective in family.objectives:
            caps = objective.capabilities
            # declared abilities are real methods; declared options are real keywords
            for ability in ("sample", "reconstruct", "test_metrics"):
                assert getattr(caps, ability) == callable(getattr(objective, ability, None)), (
                    objective.__name__, ability)
            if caps.sample:
                keywords = inspect.signature(objective.sample).parameters
                assert all(o.name in keywords for o in caps.sample_options), objective


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_contract(name, runs, domain_runs, capsys):
    straight = runs(name)
    family = FAMILIES[name]
    config = contract_config(name, runs.done)
    resumed = runs.root / name / "resumed"
    path = config_file(runs.root / name / "config_resumed", config)
    assert main(["train", str(path), "--workdir", str(resumed), "--config.train.steps=1"]) == 0
    assert main(["train", str(path), "--workdir", str(resumed)]) == 0

    # 1 + 1 steps resumed == 2 steps straight, bit for bit (parameters, optimizer, EMA...)
    _, experiment, state_a = load_run(straight)
    _, _, state_b = load_run(resumed)
    assert int(state_a.step) == int(state_b.step) == 2
    assert tree_equal(state_a, state_b), f"{name}: a resumed run differs from a straight one"
    assert experiment.family is family

    modality, caps = experiment.modality, experiment.objective.capabilities
    capsys.readouterr()
    if caps.sample:
        grids = sorted(p.name for p in (resumed / "samples").glob("step_*"))
        assert grids == sorted(f"step_000000{i}{suffix}" for i in (1, 2)
                               for suffix in modality.loop_formats), grids
        for suffix in modality.sample_formats:
            out = resumed / f"drawn{suffix}"
            assert main(["sample", str(resumed), "--num", "3", "--out", str(out)]) == 0
            assert out.stat().st_size > 0
    else:
        code = main(["sample", str(resumed), "--num", "3",
                     "--out", str(resumed / f"x{modality.sample_formats[0]}")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err == f"genjax: error: {caps.cannot_sample}", err
    if caps.reconstruct:
        assert list((resumed / "samples").glob("recon_step_0000002.*"))

    argv = ["eval", str(resumed), "--num-samples", "24", "--config.eval.batch_size=12"]
    if name != FEATURE_NETWORK and modality.domain_classifier and experiment.spec.num_classes:
        classifier = domain_runs(modality, config.data.name)
        argv.append(f"--config.eval.classifier_dir={classifier}")
    assert main(argv) == 0
    results = json.loads((resumed / "eval.json").read_text())
    assert results["step"] == 2 and any(k.startswith("test_") for k in results), results
    quality = set(results) - BOOKKEEPING - {k for k in results if k.startswith("test_")}
    if caps.sample or caps.translates:  # a translation model is judged on its translations
        assert results["num_samples"] == 24 and quality, results
    else:
        assert quality == {"sample_metrics_skipped"}, results
    if caps.translates:
        assert not caps.sample and "samples_translated_from" in quality, results
