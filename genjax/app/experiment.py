"""From a config to the pieces the loop needs, and back from a run folder to its state.

The generic builder: it looks the family up in the registry (``genjax.families``), the
dataset's modality up in ``genjax.modalities``, checks what every family shares (modality,
precision, parallel mode, batch divisibility) and calls the family's own ``build``. It names
no family and no modality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_collections

from genjax import data as gdata
from genjax.config import ConfigError, check_model_sizes, check_seed, fill_missing
from genjax.core.files import WorkdirError
from genjax.core.loop import LoopSettings
from genjax.core.objective import Objective
from genjax.core.parallel import PARALLEL_MODES, ParallelError, check_divisible, step_factory
from genjax.core.precision import PRECISIONS, Precision, precision_policy
from genjax.core.registry import Family
from genjax.families import families
from genjax.modalities import Modality, modality_of


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What a family's ``build`` gets besides its config and the dataset's spec.

    Attributes:
      modality: the dataset's modality (its batch key is the objective's ``data_key``).
      precision: the compute-dtype policy of ``config.precision`` (checked against the
        family's declared ``precisions``).
      load_run: ``load_run(workdir) -> (config, objective, state)`` of another, trained run
        (a two-stage family's first stage); raises ConfigError when it cannot.
    """

    modality: Modality
    precision: Precision
    load_run: Callable[[str | Path], tuple[ml_collections.ConfigDict, Objective, Any]]


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Everything ``genjax train`` needs, built from one config."""

    config: ml_collections.ConfigDict
    spec: gdata.DatasetSpec
    family: Family
    modality: Modality
    objective: Objective
    train_batches: Any
    eval_batches: Any
    settings: LoopSettings
    make_step: Callable[..., Any]


def family_of(config: ml_collections.ConfigDict) -> Family:
    """The registered family of ``config.family`` (a former name maps to its family).

    Raises:
      ConfigError: an unknown family (the message lists the known ones).
    """
    known = families()
    if config.family not in known:
        names = sorted({f.name for f in known.values()})
        raise ConfigError(f"unknown family {config.family!r}; known families: "
                          f"{', '.join(names)}")
    return known[config.family]


def upgrade(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``config`` in its family's current schema: a config saved under a former family name
    (e.g. ``dcgan``) is migrated by that family, and keys the family's schema added since the
    run was saved (``Family.defaults``) take their defaults; present keys are kept as saved."""
    family = family_of(config)
    if config.family != family.name and family.migrate is not None:
        config = family.migrate(config)
    if family.defaults is None:
        return config
    return fill_missing(config, family.defaults().to_dict())


def resume_conflicts(workdir: Path, config: ml_collections.ConfigDict) -> list[str]:
    """``genjax.config.config_conflicts`` between the run saved in ``workdir`` and ``config``,
    both in their family's current schema (:func:`upgrade`), so a key the schema gained since
    the run was saved, or that ``config``'s named recipe leaves out, is no change."""
    from genjax.config import config_conflicts

    return config_conflicts(read_saved_config(workdir), upgrade(config))


def data_dir(config: ml_collections.ConfigDict) -> Path:
    """The dataset folder: ``data.data_dir`` or genjax's default."""
    return Path(config.data.data_dir) if config.data.data_dir else gdata.default_data_dir()


def loop_settings(config: ml_collections.ConfigDict) -> LoopSettings:
    """The loop's typed settings from ``config.train``."""
    t = config.train
    try:
        return LoopSettings(
            steps=t.steps, log_every=t.log_every, checkpoint_every=t.checkpoint_every,
            sample_every=t.sample_every, keep_checkpoints=t.keep_checkpoints,
            steps_per_call=t.steps_per_call, eval_every=t.eval_every, num_samples=t.num_samples,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from err


def parallel_mode(config: ml_collections.ConfigDict) -> str:
    """``config.parallel`` checked (``single`` for configs saved before the key existed)."""
    parallel = config.get("parallel", "single")
    if parallel not in PARALLEL_MODES:
        raise ConfigError(f"unknown parallel mode {parallel!r}; choose one of "
                          f"{', '.join(PARALLEL_MODES)} (--config.parallel)")
    return parallel


def precision(config: ml_collections.ConfigDict) -> Precision:
    """The compute-dtype policy of ``config.precision``."""
    name = config.get("precision", "fp32")
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; choose one of "
                          f"{', '.join(PRECISIONS)} (--config.precision)")
    return precision_policy(name)


_LOADING: list[Path] = []  # the run folders load_run is reading, outermost first


def _load_other_run(workdir: str | Path):
    """``BuildContext.load_run``: another run's config, objective and latest state."""
    resolved = Path(workdir).resolve()
    if resolved in _LOADING:  # e.g. a vqvae_dir naming the prior run itself
        chain = " -> ".join(str(p) for p in [*_LOADING, resolved])
        raise ConfigError(f"{workdir} is a run that depends on itself ({chain}); point the "
                          "config at another, trained first-stage run folder")
    try:
        config, experiment, state = load_run(Path(workdir))
    except WorkdirError as err:
        raise ConfigError(f"{workdir}: {err}") from err
    return config, experiment.objective, state


#: The run-folder subfolder of ``Modality.saved_files`` (a learned tokenizer).
MODALITY_FILES = "modality"


def read_modality_files(workdir: Path) -> dict[str, str]:
    """``name -> text`` of the files a run folder keeps of its configured modality
    (``workdir/modality/``; ``{}`` when it has none)."""
    folder = Path(workdir) / MODALITY_FILES
    if not folder.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def write_modality_files(workdir: Path, modality: Modality) -> None:
    """Saves ``modality.saved_files()`` into ``workdir/modality/`` (each atomically); a file
    already there is never replaced (the run was trained with it)."""
    from genjax.core.files import write_atomic

    for name, text in modality.saved_files().items():
        path = Path(workdir) / MODALITY_FILES / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)


def data_modality(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec,
                  files: dict[str, str] | None = None) -> Modality:
    """The dataset's modality set up for the run's ``data`` options (``Modality.configure``:
    ``data.tokenizer`` / ``data.vocab_size`` of text; a learned tokenizer is trained on the
    train split once and cached under the data folder's ``tokenizers/``), or restored from
    the ``files`` a run folder or an export saved of it (then no data is read).

    Raises:
      ConfigError: options the modality refuses, or unreadable files, naming the fix.
    """
    d = config.data
    try:
        if files:
            return modality_of(spec).restored(spec, files)
        return modality_of(spec).configure(
            spec, tokenizer=d.get("tokenizer", ""), vocab_size=d.get("vocab_size", 0),
            train_source=lambda: gdata.load_source(d.name, "train", data_dir(config)),
            cache=data_dir(config) / "tokenizers")
    except gdata.DatasetError as err:
        raise ConfigError(str(err)) from err


def build_objective(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec,
                    load_other_run: Callable[..., Any] | None = None,
                    modality: Modality | None = None) -> Objective:
    """The objective of ``config.family`` for a dataset, after the checks every family shares.

    Args:
      config: the run's config.
      spec: the dataset's spec (no data is read here, except once to learn a tokenizer).
      load_other_run: ``BuildContext.load_run`` (default: read another run folder), e.g. one
        that refuses, for a model that must be built from itself alone.
      modality: the run's configured modality (default: :func:`data_modality`).

    Raises:
      ConfigError: an unknown family, a modality or precision the family does not take, or
        the family's own refusal (its message names the fix).
    """
    config = upgrade(config)
    family = family_of(config)
    parallel_mode(config)
    policy = precision(config)
    if modality is None:
        modality = data_modality(config, spec)
    if modality.name not in family.modalities:
        raise ConfigError(
            f"family {family.name!r} trains on {' or '.join(family.modalities)} data, but "
            f"dataset {spec.name!r} holds {modality.name} data; choose another dataset with "
            "--config.data.name (see the README's data table)")
    if policy.name not in family.precisions:
        raise ConfigError(f"family {family.name!r} computes in {'/'.join(family.precisions)} "
                          f"only; use --config.precision=fp32")
    context = BuildContext(modality=modality, precision=policy,
                           load_run=load_other_run or _load_other_run)
    try:
        return family.build(config, spec, context)
    except (ValueError, TypeError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot build {family.name!r} for dataset {spec.name!r} "
                          f"(shape {spec.shape}): {err}") from err


def pairing(config: ml_collections.ConfigDict, modality: Modality):
    """The ``data.pairing`` of a config (``genjax.data.pairing.Pairing``: a source image
    added to every batch for image-to-image translation), or None (no key, or ``""``).

    ``data.mask_size`` is the side of an ``inpaint`` hole (default 12 pixels).

    Raises:
      ConfigError: an unknown pairing or a bad hole size.
    """
    from genjax.data.pairing import Pairing

    kind = config.data.get("pairing", "")
    if not kind:
        return None
    try:
        return Pairing(kind, seed=config.seed, hole=config.data.get("mask_size", 12),
                       field=modality.batch_key)
    except gdata.DatasetError as err:
        raise ConfigError(f"data.pairing: {err}") from err


def make_batches(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec, split: str, *,
                 shuffle: bool, shard_index: int = 0, shard_count: int = 1,
                 modality: Modality | None = None):
    """Deterministic batches of one split, transformed for the model by its modality (and
    paired, with ``data.pairing``); ``modality``: the configured one (default:
    :func:`data_modality`)."""
    modality = modality or data_modality(config, spec)
    source = modality.examples(gdata.load_source(config.data.name, split, data_dir(config)),
                               spec, config.data.get("context", 0), train=split == "train")
    transform = modality.transform(spec, config.data.image_size or None)
    return gdata.Batches(source, config.train.batch_size, config.seed, shuffle=shuffle,
                         transform=transform, shard_index=shard_index, shard_count=shard_count,
                         pairing=pairing(config, modality))


def build(config: ml_collections.ConfigDict, *, shard_index: int = 0, shard_count: int = 1,
          with_eval: bool = True, modality_files: dict[str, str] | None = None) -> Experiment:
    """Builds the objective, data and loop settings of one config (``modality_files``: what
    the run folder saved of its modality, :func:`read_modality_files`).

    Raises:
      ConfigError / genjax.data.DatasetError: with a message that names the fix.
    """
    config = upgrade(config)
    check_seed(config.seed)
    check_model_sizes(config)
    settings = loop_settings(config)
    parallel = parallel_mode(config)
    if parallel in ("pmap", "sharded"):
        import jax

        try:
            check_divisible(config.train.batch_size, jax.device_count())
        except ParallelError as err:
            raise ConfigError(f"parallel={parallel}: {err}") from err
    spec = gdata.dataset_spec(config.data.name, data_dir(config))
    modality = data_modality(config, spec, modality_files)
    objective = build_objective(config, spec, modality=modality)
    train_batches = make_batches(config, spec, "train", shuffle=True, shard_index=shard_index,
                                 shard_count=shard_count, modality=modality)
    eval_batches = None
    if with_eval and config.train.eval_every and "test" in spec.splits:
        eval_batches = make_batches(config, spec, "test", shuffle=False, modality=modality,
                                    shard_index=shard_index, shard_count=shard_count)
    shapes = _check_model_takes_data(objective, train_batches, config)
    check_fits_in_memory(shapes, config)
    return Experiment(config, spec, family_of(config), modality, objective,
                      train_batches, eval_batches, settings, step_factory(parallel))


def _check_model_takes_data(objective: Objective, batches: Any, config) -> Any:
    """Traces ``init`` on one batch so a shape mismatch fails here, with its reason.

    Returns:
      The state's shapes (``jax.ShapeDtypeStruct`` leaves).
    """
    import jax

    try:
        return jax.eval_shape(objective.init, jax.random.PRNGKey(0), batches.batch(0))
    except (ValueError, TypeError, ArithmeticError) as err:
        raise ConfigError(
            f"family {config.family!r} cannot take {config.data.name!r} batches "
            f"({ {k: v.shape for k, v in batches.batch(0).items()} }): {err}"
        ) from err


def state_bytes(shapes: Any) -> int:
    """Bytes of a state given its shapes (parameters, optimizer moments, EMA copies)."""
    import jax
    import numpy as np

    return sum(int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize
               for leaf in jax.tree_util.tree_leaves(shapes) if hasattr(leaf, "shape"))


def memory_bytes() -> int | None:
    """Memory of the first device (its ``bytes_limit``), or the host's RAM on CPU; None when
    unknown."""
    import os

    import jax

    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - a backend without memory stats
        stats = {}
    if stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_in_memory(shapes: Any, config, available: int | None = None) -> None:
    """Refuses a model whose training state alone exceeds the device's memory.

    Raises:
      ConfigError: with the estimate (state bytes against the memory) and what to shrink.
    """
    needed = state_bytes(shapes)
    available = memory_bytes() if available is None else available
    if available and needed > available:
        raise ConfigError(
            f"family {config.family!r}: the training state alone needs {needed / 2**30:.1f} "
            f"GiB (parameters, optimizer state, EMA) but the device has "
            f"{available / 2**30:.1f} GiB; make the model smaller (--config.model.*)")


# -- run folders written by ``genjax train`` -------------------------------------------------


# What ``genjax train`` writes into a run folder (``train.lock`` stays: it is the lock).
RUN_FILES = ("checkpoints", "corrupt_checkpoints", "metrics.jsonl", "tensorboard", "samples",
             "plots", "eval.json", "config.json", "config.before-*.json", MODALITY_FILES)


def archive_run(workdir: Path) -> Path | None:
    """Moves a run's files into ``workdir/before-restart-<time>/`` (nothing is deleted), so
    the folder can train again from step 0.

    Returns:
      The archive folder, or None when there was nothing to move.
    """
    import datetime

    workdir = Path(workdir)
    found = sorted({p for pattern in RUN_FILES for p in workdir.glob(pattern)})
    if not found:
        return None
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = workdir / f"before-restart-{stamp}"
    n = 1
    while archive.exists():
        n += 1
        archive = workdir / f"before-restart-{stamp}-{n}"
    archive.mkdir()
    for path in found:
        path.rename(archive / path.name)
    return archive


def read_saved_config(workdir: Path):
    """The resolved config a run saved in ``workdir/config.json``, in its family's current
    schema (see :func:`upgrade`)."""
    path = Path(workdir) / "config.json"
    if not path.exists():
        raise WorkdirError(f"{workdir} has no config.json: it is not a run folder written by "
                           "`genjax train` (check the path)")
    import json

    try:
        raw = json.loads(path.read_text())
    except (ValueError, OSError) as err:
        raise WorkdirError(f"{path} is not valid JSON ({err}); fix or move it") from err
    return config_from_saved(raw, path, "restore the file `genjax train` wrote, or move the "
                             "folder aside")


def config_from_saved(raw: Any, where: Path, fix: str) -> ml_collections.ConfigDict:
    """A config as ``genjax train`` saved it (the parsed JSON of ``config.json``), checked
    and in its family's current schema.

    Raises:
      WorkdirError: not a genjax config (naming ``where`` and the ``fix``), or an unknown
        family.
    """
    import json

    from genjax import config as gconfig

    try:
        gconfig.check_saved_types(raw)
    except ConfigError as err:
        raise WorkdirError(f"{where} is not a genjax config: {err}; {fix}") from err
    saved = gconfig.from_json(json.dumps(raw))
    try:
        return upgrade(saved)
    except ConfigError as err:
        raise WorkdirError(f"{where}: {err}") from err


def load_run(workdir: Path, config=None):
    """The config, experiment and latest state of a finished or running training run.

    Args:
      workdir: the run folder.
      config: the run's config with ``eval.*`` changes (default: the saved one as it is).
        Its ``parallel`` mode is replaced by ``single``: what loads a run samples or
        evaluates on one device (the state is the same in every mode).

    Returns:
      ``(config, experiment, state)``.

    Raises:
      WorkdirError: not a run folder, or no checkpoint yet.
    """
    from genjax.core.checkpoint import Checkpointer
    from genjax.core.loop import init_state

    workdir = Path(workdir)
    config = read_saved_config(workdir) if config is None else config
    if config.get("parallel", "single") != "single":  # sampling and evaluation run unmapped
        config = ml_collections.ConfigDict(config.to_dict())
        config.parallel = "single"
    _LOADING.append(workdir.resolve())
    try:
        experiment = build(config, with_eval=False, modality_files=read_modality_files(workdir))
    finally:
        _LOADING.pop()
    checkpointer = Checkpointer(workdir / "checkpoints", keep=config.train.keep_checkpoints,
                                async_save=False)
    try:
        template = init_state(experiment.objective, experiment.train_batches, config.seed)
        restored = checkpointer.restore_latest(template, move_corrupt=False)
    finally:
        checkpointer.close()
    if restored is None:
        raise WorkdirError(f"{workdir / 'checkpoints'} holds no checkpoint yet; train first")
    return experiment.config, experiment, restored[0]
