"""Exported models: a trained run's sampling network in one file, used without the dataset.

``genjax export RUN --out model.genjax`` writes a zip archive of

* ``header.json``: the format and its version, the genjax version, the family, the step, the
  run's resolved config (its ``config.json``), the dataset's spec (name, modality, shape,
  classes, split sizes), what the run saved of its configured modality
  (``Modality.saved_files``: a learned tokenizer's ``tokenizer.json``), the shapes of one
  training batch, and the tree path, shape and dtype of every state array it holds;
* ``arrays/<i>.npy``: those arrays.

It holds only the arrays the family's ``sample`` (and ``reconstruct``, where the family has
one) read, found by tracing those functions and dropping dead code (no family is named
here): optimizer states, a GAN's discriminator, the raw weights beside an EMA copy stay out.

Loading rebuilds the objective from the config and the saved spec (no dataset is opened),
shapes the state with ``jax.eval_shape(objective.init, ...)`` on the saved batch shapes and
puts the saved arrays in place; the arrays left out are zeros inside the jitted sampler,
where they are dead code, and a sample option that would read one is refused.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from genjax._version import __version__
from genjax.app.experiment import build_objective, config_from_saved, data_modality, load_run
from genjax.core.files import WorkdirError, written_atomically
from genjax.data import DatasetSpec
from genjax.modalities import Modality

FORMAT = "genjax-export"
FORMAT_VERSION = 1
HEADER = "header.json"


class ExportError(WorkdirError):
    """An export that cannot be written or read (the message names the fix)."""


class _NeedsOtherRun(Exception):
    """Raised by the build of a model that reads another run folder (a second stage)."""


def _no_other_runs(workdir: Any) -> Any:
    raise _NeedsOtherRun(str(workdir))


def used_leaves(fn: Callable[..., Any], treedef: Any, shapes: list[Any]) -> frozenset[int]:
    """The indices of the leaves of a state (``treedef`` with leaf ``shapes``) that
    ``fn(state)`` reads, after dead code is dropped."""
    closed = jax.make_jaxpr(lambda *leaves: fn(jax.tree_util.tree_unflatten(treedef, leaves)))(
        *shapes)
    jaxpr = closed.jaxpr
    try:
        from jax._src.interpreters import partial_eval as pe

        _, used = pe.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars))
        return frozenset(i for i, u in enumerate(used) if u)
    except (ImportError, AttributeError, TypeError):  # another JAX: keep what is referenced
        referenced = {id(v) for eqn in jaxpr.eqns for v in eqn.invars}
        referenced |= {id(v) for v in jaxpr.outvars}
        return frozenset(i for i, v in enumerate(jaxpr.invars) if id(v) in referenced)


def _abstract(tree: Any) -> tuple[Any, list[jax.ShapeDtypeStruct]]:
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, [jax.ShapeDtypeStruct(np.shape(x), x.dtype) for x in leaves]


def _reads(objective: Any, treedef: Any, shapes: list[Any], batch: dict[str, Any],
           options: dict[str, Any]) -> frozenset[int]:
    """The leaves ``sample`` (with ``options``) and ``reconstruct``, ``encode_latents`` and
    ``log_prob`` (where declared) read."""
    key = jax.random.PRNGKey(0)
    used = used_leaves(lambda s: objective.sample(s, key, 2, **options), treedef, shapes)
    caps = objective.capabilities
    zeros = {k: np.zeros(v.shape, v.dtype) for k, v in batch.items()}
    if caps.reconstruct:
        used |= used_leaves(lambda s: objective.reconstruct(s, zeros, key), treedef, shapes)
    if caps.encode:
        used |= used_leaves(lambda s: objective.encode_latents(s, zeros, key), treedef, shapes)
    if caps.log_prob:
        used |= used_leaves(lambda s: objective.log_prob(s, zeros, key), treedef, shapes)
    return used


def _storable(array: np.ndarray) -> np.ndarray:
    """``array`` as ``.npy`` can hold it (dtypes NumPy lacks, e.g. bfloat16, as raw bits)."""
    return array.view(f"u{array.dtype.itemsize}") if array.dtype.kind == "V" else array


def export_run(workdir: str | Path, out: str | Path) -> dict[str, Any]:
    """Writes the export of a run folder's latest checkpoint to ``out`` (atomically).

    Returns:
      A summary: ``{"out", "family", "step", "arrays", "arrays_left_out", "bytes"}``.

    Raises:
      ExportError: a model that cannot sample, or one built on another run.
      WorkdirError: not a run folder, or no checkpoint yet.
    """
    workdir, out = Path(workdir), Path(out)
    config, experiment, state = load_run(workdir)
    objective = experiment.objective
    if not objective.capabilities.sample:
        raise ExportError(f"{workdir} cannot be exported: {objective.capabilities.cannot_sample}")
    try:
        build_objective(config, experiment.spec, load_other_run=_no_other_runs,
                        modality=experiment.modality)
    except _NeedsOtherRun as err:
        raise ExportError(
            f"{workdir} builds on another run ({err}); exporting a two-stage model is not "
            "supported yet: sample from its run folder with `genjax sample`") from None
    batch = {k: jax.ShapeDtypeStruct(np.shape(v), np.asarray(v).dtype)
             for k, v in experiment.train_batches.batch(0).items()}
    treedef, shapes = _abstract(state)
    kept = sorted(_reads(objective, treedef, shapes, batch, {}))
    leaves = jax.tree_util.tree_leaves(state)
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(state)[0]]
    raw_config = json.loads((workdir / "config.json").read_text())
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "genjax_version": __version__,
        "family": config.family, "step": int(jax.device_get(state.step)),
        "config": raw_config, "modality": experiment.spec.modality,
        "modality_files": experiment.modality.saved_files(),  # e.g. a learned tokenizer
        "dataset": {**dataclasses.asdict(experiment.spec),
                    "shape": list(experiment.spec.shape)},
        "batch": {k: {"shape": list(v.shape), "dtype": v.dtype.name} for k, v in batch.items()},
        "num_leaves": len(leaves),
        "leaves": [{"index": i, "path": paths[i], "shape": list(shapes[i].shape),
                    "dtype": shapes[i].dtype.name} for i in kept],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(HEADER, json.dumps(header, indent=1, sort_keys=True) + "\n")
        for i in kept:
            buffer = io.BytesIO()
            np.save(buffer, _storable(np.asarray(jax.device_get(leaves[i]))))
            zf.writestr(f"arrays/{i}.npy", buffer.getvalue())
    return {"out": str(out), "family": config.family, "step": header["step"],
            "arrays": len(kept), "arrays_left_out": len(leaves) - len(kept),
            "bytes": out.stat().st_size}


class ExportedObjective:
    """An objective whose state is the export's arrays only: ``sample``, ``reconstruct`` and
    the declared latent / likelihood methods put them into the full state (the others as
    zeros, dead code in the jitted function)."""

    def __init__(self, objective: Any, treedef: Any, shapes: list[Any], kept: list[int],
                 paths: list[str], batch: dict[str, Any]):
        self._objective, self._treedef, self._shapes = objective, treedef, shapes
        self._kept, self._paths, self._batch = tuple(kept), paths, batch
        self.data_key = objective.data_key
        self.capabilities = objective.capabilities

    def _state(self, arrays: tuple[Any, ...]) -> Any:
        given = dict(zip(self._kept, arrays, strict=True))
        leaves = [given[i] if i in given else jnp.zeros(s.shape, s.dtype)
                  for i, s in enumerate(self._shapes)]
        return jax.tree_util.tree_unflatten(self._treedef, leaves)

    def _check(self, options: dict[str, Any]) -> None:
        missing = sorted(_reads(self._objective, self._treedef, self._shapes, self._batch,
                                options) - set(self._kept))
        if missing:
            shown = ", ".join(self._paths[i] for i in missing[:3])
            raise ValueError(f"this export does not hold the arrays ({shown}) that "
                             f"sampling with {options} reads; sample from the run folder")

    def sample(self, arrays: tuple[Any, ...], key: jax.Array, num: int, **options: Any) -> Any:
        if options:  # the default options were checked when it was exported
            self._check(options)
        return self._objective.sample(self._state(arrays), key, num, **options)

    def reconstruct(self, arrays: tuple[Any, ...], batch: dict[str, Any], key: jax.Array
                    ) -> Any:
        return jax.jit(lambda a, b, k: self._objective.reconstruct(self._state(a), b, k))(
            arrays, batch, key)

    def prior_latents(self, arrays: tuple[Any, ...], key: jax.Array, num: int) -> Any:
        return self._objective.prior_latents(self._state(arrays), key, num)

    def decode_latents(self, arrays: tuple[Any, ...], z: Any, **options: Any) -> Any:
        if options:
            self._check(options)
        return self._objective.decode_latents(self._state(arrays), z, **options)

    def encode_latents(self, arrays: tuple[Any, ...], batch: dict[str, Any], key: jax.Array
                       ) -> Any:
        return self._objective.encode_latents(self._state(arrays), batch, key)

    def log_prob(self, arrays: tuple[Any, ...], batch: dict[str, Any], key: jax.Array,
                 **options: Any) -> Any:
        return self._objective.log_prob(self._state(arrays), batch, key, **options)


@dataclasses.dataclass(frozen=True)
class Exported:
    """A loaded export: what ``genjax sample`` reads from a loaded run (``objective``,
    ``modality``), plus the step and spec."""

    objective: ExportedObjective
    modality: Modality
    spec: DatasetSpec
    step: int


def _damaged(path: Path, err: BaseException) -> ExportError:
    return ExportError(f"{path} is not a readable genjax export: damaged or truncated "
                       f"({type(err).__name__}: {str(err)[:120]}); export the run again with "
                       f"`genjax export RUN --out {path}`")


def load_export(path: str | Path) -> tuple[ml_collections.ConfigDict, Exported, tuple]:
    """The config, objective and arrays of an export, without the dataset.

    Returns:
      ``(config, exported, arrays)``: ``exported.objective.sample(arrays, key, num)``.

    Raises:
      ExportError: another format version, or a damaged or truncated file.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read(HEADER))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ExportError(f"{path} is a zip file but not a genjax export (no "
                                  f"{FORMAT!r} header); pass a file written by `genjax export`")
            version = header.get("format_version")
            if version != FORMAT_VERSION:
                raise ExportError(
                    f"{path} is a genjax export of format version {version} (written by "
                    f"genjax {header.get('genjax_version')}); this genjax {__version__} reads "
                    f"format version {FORMAT_VERSION} only: export the run again with this "
                    "genjax, or load it with the genjax that wrote it")
            arrays = {e["index"]: np.load(io.BytesIO(zf.read(f"arrays/{e['index']}.npy")))
                      for e in header["leaves"]}
    except ExportError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError,
            OSError) as err:
        raise _damaged(path, err) from err
    config = config_from_saved(header["config"], path, "export the run again")
    if config.get("parallel", "single") != "single":
        config.parallel = "single"
    d = header["dataset"]
    spec = DatasetSpec(name=d["name"], modality=d["modality"], shape=tuple(d["shape"]),
                       num_classes=d["num_classes"], splits=dict(d["splits"]))
    try:
        modality = data_modality(config, spec, header.get("modality_files") or {})
        objective = build_objective(config, spec, load_other_run=_no_other_runs,
                                    modality=modality)
    except _NeedsOtherRun as err:
        raise ExportError(f"{path} names another run ({err}); it is not a self-contained "
                          "export") from None
    batch = {k: jax.ShapeDtypeStruct(tuple(v["shape"]), jnp.dtype(v["dtype"]))
             for k, v in header["batch"].items()}
    template = jax.eval_shape(objective.init, jax.random.PRNGKey(0), batch)
    treedef, shapes = _abstract(template)
    paths = [jax.tree_util.keystr(p) for p, _ in
             jax.tree_util.tree_flatten_with_path(template)[0]]
    kept, values = [], []
    for entry in header["leaves"]:
        i = entry["index"]
        ok = (len(shapes) == header["num_leaves"] and i < len(shapes) and paths[i] == entry["path"]
              and list(shapes[i].shape) == entry["shape"] == list(arrays[i].shape)
              and shapes[i].dtype.name == entry["dtype"])
        if not ok:
            raise ExportError(
                f"{path} holds a different model than this genjax {__version__} builds from "
                f"its config ({entry['path']} {entry['shape']}); load it with genjax "
                f"{header.get('genjax_version')}, or export the run again")
        value = arrays[i]
        if value.dtype != shapes[i].dtype:
            value = value.view(shapes[i].dtype)
        kept.append(i)
        values.append(jnp.asarray(value))
    exported = Exported(
        objective=ExportedObjective(objective, treedef, shapes, kept, paths, batch),
        modality=modality, spec=spec, step=int(header["step"]))
    return config, exported, tuple(values)
