"""Config and command-line side of scaling out: parallel/precision/distributed keys, errors."""

import json

import jax.numpy as jnp
import pytest

from genjax import config as C
from genjax.cli import main
from genjax.core.distributed import DistributedSettings, initialize


def test_base_config_has_the_scale_keys_and_only_placement_is_resumable():
    saved = C.load_config("dcgan_mnist")
    assert (saved.parallel, saved.precision) == ("single", "fp32")
    new = C.from_json(C.to_json(saved))
    C.apply_overrides(new, ["parallel=pmap", "distributed.coordinator=h:1",
                            "distributed.num_processes=2", "distributed.process_id=1"])
    assert C.config_conflicts(saved, new) == []  # where it runs does not change the numbers
    C.apply_overrides(new, ["precision=bf16"])
    assert C.config_conflicts(saved, new) == ["precision: 'fp32' -> 'bf16'"]


def test_a_config_saved_before_the_keys_existed_resumes_without_conflict():
    saved = json.loads(C.to_json(C.load_config("dcgan_mnist")))
    for key in ("parallel", "precision", "distributed"):
        del saved[key]
    assert C.config_conflicts(C.from_json(json.dumps(saved)), C.load_config("dcgan_mnist")) == []


@pytest.mark.parametrize("override, expected", [
    ("--config.parallel=pmapp", "unknown parallel mode 'pmapp'; choose one of single, pmap"),
    ("--config.precision=fp16", "unknown precision 'fp16'; choose one of fp32, bf16"),
])
def test_bad_modes_give_one_line_errors(tmp_path, capsys, override, expected):
    assert main(["train", "classifier_mnist", "--workdir", str(tmp_path), override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("genjax: error:") and expected in err and len(err.splitlines()) == 1


def test_a_global_batch_that_does_not_split_over_the_devices_is_refused(tmp_path, capsys):
    argv = ["train", "dcgan_mnist", "--workdir", str(tmp_path), "--config.parallel=sharded",
            "--config.train.batch_size=12"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "global batch size 12 does not split over 8 devices" in err
    assert "multiple of 8" in err


def test_pmap_and_sharded_configs_build_the_bf16_objective():
    from genjax.app.experiment import build_objective
    from genjax.data import dataset_spec, default_data_dir

    config = C.load_config("dcgan_mnist")
    for parallel in ("pmap", "sharded"):
        C.apply_overrides(config, [f"parallel={parallel}", "precision=bf16"])
        gan = build_objective(config, dataset_spec("mnist_subset", default_data_dir()))
        assert jnp.dtype(gan.generator.dtype) == jnp.dtype(gan.discriminator.dtype) == (
            jnp.bfloat16), parallel


def test_distributed_settings_name_what_is_missing():
    assert initialize(DistributedSettings(), environ={}) == (0, 1)  # single host: nothing to do
    with pytest.raises(ValueError, match="needs distributed.coordinator.*auto_detect"):
        initialize(DistributedSettings(num_processes=2, process_id=0), environ={})
    with pytest.raises(ValueError, match=r"process_id must be in \[0, 2\); got 2"):
        initialize(DistributedSettings(coordinator="h:1", num_processes=2, process_id=2),
                   environ={})
    assert DistributedSettings().requested({"JAX_COORDINATOR_ADDRESS": "h:1"})
