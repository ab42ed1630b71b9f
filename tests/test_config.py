"""Configs: named and file configs, typed overrides, saved-config conflicts."""

import pytest

from genjax import config as C


def test_named_configs_have_the_contract_keys():
    names = C.list_configs()
    assert "dcgan_mnist" in names and names["dcgan_mnist"]
    for name in names:
        flat = C.flatten(C.load_config(name))
        for key in ("seed", "data.name", "train.steps", "train.batch_size", "train.log_every",
                    "train.checkpoint_every", "train.sample_every", "train.keep_checkpoints"):
            assert key in flat, (name, key)


def test_config_from_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("from genjax.configs.dcgan_mnist import get_config as g\n"
                    "def get_config():\n    c = g()\n    c.train.steps = 7\n    return c\n")
    assert C.load_config(str(path)).train.steps == 7


def test_unknown_name_suggests_close_match():
    with pytest.raises(C.ConfigError, match="Did you mean dcgan_mnist"):
        C.load_config("dcgan_mnst")


def test_overrides_are_typed():
    config = C.load_config("dcgan_mnist")
    C.apply_overrides(config, ["train.steps=12", "optim.g_lr=1e-3", "model.g_features=(8, 4, 2)",
                               "data.name=digits"])
    assert config.train.steps == 12 and config.optim.g_lr == 1e-3
    assert config.model.g_features == (8, 4, 2) and config.data.name == "digits"
    with pytest.raises(C.ConfigError, match="expected a value of type int"):
        C.apply_overrides(config, ["train.steps=ten"])
    with pytest.raises(C.ConfigError, match="unknown config key 'train.stpes'.*train.steps"):
        C.apply_overrides(config, ["train.stpes=3"])


def test_conflicts_allow_resumable_keys_only():
    saved = C.load_config("dcgan_mnist")
    new = C.from_json(C.to_json(saved))
    assert C.config_conflicts(saved, new) == []
    C.apply_overrides(new, ["train.steps=5000", "train.log_every=7"])
    assert C.config_conflicts(saved, new) == []
    C.apply_overrides(new, ["optim.g_lr=0.1", "model.g_features=(1, 2, 3)"])
    lines = C.config_conflicts(saved, new)
    assert len(lines) == 2 and lines[0].startswith("model.g_features")


def test_runs_saved_before_the_eval_section_get_its_defaults():
    from genjax.config import base_config, from_json, to_json, with_defaults

    config = base_config()
    del config["eval"]
    old = from_json(to_json(config))
    old_eval = with_defaults(old).eval
    assert old_eval.to_dict() == base_config().eval.to_dict()
    partial = base_config()
    partial.eval.metrics = "fid"
    del partial.eval["classifier_dir"]
    filled = with_defaults(partial).eval
    assert filled.metrics == "fid" and filled.classifier_dir == ""


def test_a_run_saved_before_a_family_key_existed_reads_back_with_its_default(tmp_path):
    """A dcgan_mnist run saved without ``gan.label_smoothing`` (added later): reading its
    config.json fills the family's default, keeps every saved value, and resuming it with
    today's named config sees no change."""
    import json

    from genjax.app.experiment import read_saved_config

    saved = json.loads(C.to_json(C.load_config("dcgan_mnist")))
    del saved["gan"]["label_smoothing"]
    saved["optim"]["g_lr"] = 1e-3
    (tmp_path / "config.json").write_text(json.dumps(saved))
    config = read_saved_config(tmp_path)
    assert config.gan.label_smoothing == 0.0 and config.optim.g_lr == 1e-3
    new = C.load_config("dcgan_mnist")
    C.apply_overrides(new, ["optim.g_lr=1e-3"])
    assert C.config_conflicts(config, new) == []
    # a named recipe that replaces a section (hinge_sn_mnist's optim has no schedule keys):
    # its saved run reads back with them, and resuming it with the same recipe is no change
    from genjax.app.experiment import resume_conflicts

    (tmp_path / "config.json").write_text(C.to_json(C.load_config("hinge_sn_mnist")))
    assert read_saved_config(tmp_path).optim.lr_schedule == "constant"
    assert resume_conflicts(tmp_path, C.load_config("hinge_sn_mnist")) == []
    assert resume_conflicts(tmp_path, C.load_config("dcgan_mnist"))  # another recipe differs
