"""Configs: ``get_config()`` files, ``--config.KEY=VALUE`` overrides, and saved-config checks.

ConfigDicts live at this boundary only; modules and objectives receive typed fields.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import json
import pkgutil
from pathlib import Path
from typing import Any

import ml_collections

# The named configs: experiments/configs/ in the repository, installed as this package
# (pyproject.toml maps it with package-dir).
CONFIGS_PACKAGE = "genjax.configs"

# Keys a resumed run may change without being refused (how long, how often, where).
RESUMABLE_KEYS = frozenset({
    "train.steps", "train.log_every", "train.checkpoint_every", "train.sample_every",
    "train.keep_checkpoints", "train.eval_every", "train.num_samples", "data.data_dir",
    # Where and on how many devices/hosts: the same numbers (to float32 reduction order).
    "parallel", "distributed.coordinator", "distributed.num_processes",
    "distributed.process_id", "distributed.auto_detect",
})


# ``eval.*`` keys only change what ``genjax eval`` measures, never the trained model.
EVAL_PREFIX = "eval."


class ConfigError(ValueError):
    """A config name, key or value that cannot be used; the message says the fix."""


def base_config() -> ml_collections.ConfigDict:
    """The keys every config has, with neutral defaults.

    Returns:
      A ConfigDict with ``seed``, ``family``, ``parallel`` (``single``, ``pmap`` or
      ``sharded``: data parallelism over the devices, see ``genjax.core.parallel``; the same
      numbers in every mode, so a run may resume in another), ``precision`` (``fp32`` or
      ``bf16`` activations, see ``genjax.core.precision``), ``distributed.*`` (multi-host:
      ``jax.distributed.initialize`` arguments, see ``genjax.core.distributed``), ``data.*``,
      ``train.*`` and ``eval.*`` (what ``genjax eval`` measures; a family's config may add
      keys there, e.g. ``eval.iwae_k``, and ``genjax eval DIR --config.eval.KEY=VALUE`` may
      change them after training).
    """
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.family = ""
    config.parallel = "single"
    config.precision = "fp32"
    config.distributed = ml_collections.ConfigDict({
        "coordinator": "",  # host:port of process 0; "" -> $JAX_COORDINATOR_ADDRESS or none
        "num_processes": 0,  # 0 -> from the cluster environment
        "process_id": -1,  # -1 -> from the cluster environment
        "auto_detect": False,  # True: jax's SLURM / Open MPI / Kubernetes / Cloud TPU detection
    })
    config.data = ml_collections.ConfigDict({
        "name": "mnist_subset",
        "data_dir": "",  # "" -> genjax.data.default_data_dir()
        "image_size": 0,  # 0 -> the dataset's own size; else pad to image_size
    })
    config.train = ml_collections.ConfigDict({
        "steps": 1000,
        "batch_size": 64,
        "log_every": 50,
        "checkpoint_every": 500,
        "sample_every": 500,
        "keep_checkpoints": 3,
        "steps_per_call": 1,
        "eval_every": 0,
        "num_samples": 64,
    })
    config.eval = ml_collections.ConfigDict({
        "num_samples": 10_000,  # generated samples compared with the test split
        "metrics": "auto",  # comma list of fid,kid,is,pr,dc,modes; auto: what the data allows
        "batch_size": 250,  # samples / feature-network inputs per device call
        "inception_weights": "",  # pt_inception-2015-12-05-6726825d.pth; "" -> env or none
        "classifier_dir": "",  # domain feature network run folder; "" -> trained and cached
        "sample_options": "",  # sampler of the generated samples, e.g. "sampler=dpm++,steps=10"
        "cas": False,  # True: also the Classification Accuracy Score (trains 2 classifiers)
        "cas_samples": 0,  # synthetic examples the CAS classifier trains on; 0 -> train split size
        "cas_steps": 0,  # CAS classifier steps; 0 -> cas_classifier's train.steps
        "cas_classifier": "classifier_mnist",  # the CAS classifier config (name or .py file)
    })
    return config


def with_defaults(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``config`` with the ``eval`` keys of ``base_config()`` it lacks (a run saved before a
    key existed); every other key is left exactly as saved."""
    return fill_missing(config, {"eval": base_config().eval.to_dict()})


def fill_missing(config: ml_collections.ConfigDict, defaults: dict) -> ml_collections.ConfigDict:
    """``config`` plus the keys of ``defaults`` (a nested dict) it lacks, section by
    section; keys ``config`` has keep their values."""

    def merged(saved: dict, extra: dict) -> dict:
        out = dict(saved)
        for key, value in extra.items():
            if key not in out:
                out[key] = value
            elif isinstance(value, dict) and isinstance(out[key], dict):
                out[key] = merged(out[key], value)
        return out

    return ml_collections.ConfigDict(merged(config.to_dict(), defaults))


def list_configs() -> dict[str, str]:
    """Named configs and the first paragraph of each one's docstring (one line).

    Read from the sources without importing them (importing a recipe imports its family,
    which imports JAX: seconds), so ``genjax configs`` and name checks stay fast.
    """
    package = importlib.import_module(CONFIGS_PACKAGE)  # its __init__ imports nothing heavy

    out = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        path = Path(info.module_finder.path) / f"{info.name}.py"
        tree = ast.parse(path.read_text(), str(path))
        if _defines(tree, "get_config"):
            out[info.name] = first_paragraph(ast.get_docstring(tree) or "")
    return out


def first_paragraph(doc: str) -> str:
    """The first paragraph of a docstring as one line (never cut mid-sentence)."""
    lines = []
    for line in doc.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def _defines(tree: ast.Module, name: str) -> bool:
    """Whether a module's top level defines, assigns or imports ``name``."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, ast.ImportFrom) and any(
                (a.asname or a.name) == name for a in node.names):
            return True
    return False


def load_config(name_or_path: str) -> ml_collections.ConfigDict:
    """Loads a named config (``genjax.configs``) or a ``.py`` file with ``get_config()``.

    Raises:
      ConfigError: unknown name, missing file, or no ``get_config``.
    """
    path = Path(name_or_path)
    names = list_configs()
    if name_or_path.endswith(".py") or (path.is_file() and name_or_path not in names):
        if not path.is_file():
            raise ConfigError(f"config file {name_or_path} does not exist")
        if path.suffix != ".py":
            raise ConfigError(f"config file {name_or_path} must be a .py file with get_config()")
        spec = importlib.util.spec_from_file_location(f"genjax_user_config_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        if name_or_path not in names:
            close = difflib.get_close_matches(name_or_path, list(names), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown config {name_or_path!r}.{hint} Known configs: {', '.join(names)} "
                "(see `genjax configs`), or pass a path to a .py file with get_config()."
            )
        module = importlib.import_module(f"{CONFIGS_PACKAGE}.{name_or_path}")
    if not hasattr(module, "get_config"):
        raise ConfigError(f"{name_or_path} has no get_config() function")
    config = module.get_config()
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(f"{name_or_path}: get_config() must return an ml_collections.ConfigDict")
    return config


def flatten(config: ml_collections.ConfigDict | dict, prefix: str = "") -> dict[str, Any]:
    """``{"train.steps": 1000, ...}`` from a nested config."""
    items = config.items() if isinstance(config, dict) else config.to_dict().items()
    out = {}
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict | ml_collections.ConfigDict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _parse_value(key: str, text: str, current: Any) -> Any:
    """Parses ``text`` into the type of the current value of ``key``."""
    expected = type(current)
    try:
        if isinstance(current, bool):
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError
            return lowered in ("true", "1")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, str):
            return text
        if isinstance(current, tuple | list):
            value = ast.literal_eval(text)
            if not isinstance(value, tuple | list):
                value = (value,)
            return expected(value)
        if current is None:
            try:
                return ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return text
    except (ValueError, SyntaxError):
        pass
    raise ConfigError(
        f"--config.{key}={text}: expected a value of type {expected.__name__} "
        f"(current value {current!r})"
    )


def apply_overrides(config: ml_collections.ConfigDict, overrides: list[str]) -> None:
    """Applies ``["train.steps=10", ...]`` (``--config.`` already stripped) in place.

    Raises:
      ConfigError: an unknown key (with close matches) or a value of the wrong type.
    """
    known = flatten(config)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--config.{item}: expected --config.KEY=VALUE")
        key, text = item.split("=", 1)
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown config key {key!r}.{hint}")
        value = _parse_value(key, text, known[key])
        *parents, leaf = key.split(".")
        node = config
        for p in parents:
            node = node[p]
        node[leaf] = value
        known[key] = value


def to_json(config: ml_collections.ConfigDict) -> str:
    """The resolved config as indented JSON."""
    return json.dumps(config.to_dict(), indent=2, sort_keys=True, default=str)


def from_json(text: str) -> ml_collections.ConfigDict:
    """A ConfigDict back from ``to_json``'s output (lists where tuples were)."""
    return ml_collections.ConfigDict(_tuples(json.loads(text)))


def _tuples(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _tuples(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return tuple(_tuples(v) for v in obj)
    return obj


def config_conflicts(saved: ml_collections.ConfigDict, new: ml_collections.ConfigDict) -> list[str]:
    """Keys whose values differ between a saved run's config and a new one (resumable keys aside).

    Returns:
      Human-readable ``key: saved -> new`` lines; empty when the run may continue.
    """
    # A key added to base_config after a run was saved takes its (neutral) default there.
    defaults = flatten(json.loads(to_json(base_config())))
    a = {**defaults, **flatten(json.loads(to_json(saved)))}
    b = {**defaults, **flatten(json.loads(to_json(new)))}
    lines = []
    for key in sorted(set(a) | set(b)):
        if key in RESUMABLE_KEYS or key.startswith(EVAL_PREFIX):
            continue
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            lines.append(f"{key}: {a.get(key, '<absent>')!r} -> {b.get(key, '<absent>')!r}")
    return lines


SEED_RANGE = (0, 2**32 - 1)  # jax.random.PRNGKey keeps 32 bits: a larger seed aliases mod 2**32


def check_seed(seed: Any, name: str = "--config.seed") -> int:
    """``seed`` if it is an int in ``SEED_RANGE``.

    Raises:
      ConfigError: a seed outside 0..2**32-1 (it would alias another seed) or not an int.
    """
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not isinstance(seed, int) or not low <= seed <= high:
        raise ConfigError(f"{name}={seed!r}: seeds must be integers in {low}..{high} "
                          "(larger ones alias seed mod 2**32)")
    return seed


# Model keys that count something (units, channels, layers): 0 or less builds no model.
_SIZE_SUFFIXES = ("_dim", "features", "hidden", "width", "depth", "heads", "channels",
                  "codebook_size", "num_embeddings")


def check_model_sizes(config: ml_collections.ConfigDict) -> None:
    """Refuses non-positive sizes in ``config.model`` (``latent_dim=0``, a 0 in a feature
    tuple) with the key to fix.

    Raises:
      ConfigError: naming the key and its value.
    """
    model = config.get("model", None)
    if model is None:
        return
    for key, value in flatten(model, "model.").items():
        if not key.rsplit(".", 1)[-1].endswith(_SIZE_SUFFIXES):
            continue
        values = value if isinstance(value, tuple | list) else (value,)
        if any(isinstance(v, int) and not isinstance(v, bool) and v < 1 for v in values):
            raise ConfigError(f"--config.{key}={value!r}: sizes must be >= 1")


def check_saved_types(saved: Any) -> None:
    """A loaded ``config.json``'s shared keys have the types of ``base_config()``.

    Raises:
      ConfigError: not a JSON object, or a key whose value has the wrong type (named).
    """
    if not isinstance(saved, dict):
        raise ConfigError(f"it holds a JSON {type(saved).__name__}, not an object of config "
                          "keys")
    if not isinstance(saved.get("family"), str):
        raise ConfigError(f"'family' must be a family name, got {saved.get('family')!r}")
    values = flatten(_tuples(saved))
    for key, default in flatten(base_config()).items():
        head = key.split(".")[0]
        if head in saved and not isinstance(saved[head], dict) and "." in key:
            raise ConfigError(f"{head!r} must be an object of keys, got {saved[head]!r}")
        if key not in values or default is None or values[key] is None:
            continue
        value = values[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif isinstance(default, tuple | list):
            ok = isinstance(value, tuple | list)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ConfigError(f"{key!r} must be a {type(default).__name__}, got {value!r}")
