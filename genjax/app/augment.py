"""``genjax augment``: generative data augmentation and the Classification Accuracy Score.

A class-conditional generator is judged by what a classifier learns from its samples
(Ravuri & Vinyals 2019, "Classification Accuracy Score for Conditional Generative Models").
The domain classifier (a classifier config, e.g. ``classifier_mnist``) is trained with the
one loop (``genjax.core.loop.train``) on three training sets and tested on the real test
split:

* (a) ``real``: a class-stratified subset of the real train split (``fraction`` of each
  class, at least one example per class; chosen by seed, nested: the 1% subset of a seed is
  inside its 5% one);
* (b) ``mixed``: that subset plus ``N`` synthetic examples;
* (c) ``synthetic``: the ``N`` synthetic examples alone. Its test accuracy is the **CAS**.

The augmentation gain is (b) - (a), paired by seed. Every number is a mean +- standard error
over seeds (seed ``s`` picks the subset, draws the synthetic set and seeds the classifier).

Synthetic labels are balanced (``N // K`` per class, the remainder to the first classes) and
drawn through the generator's declared ``label`` sample option. A generator without one (or
whose model refuses it: an unconditional instance of a family that has conditional ones)
samples unconditionally and its samples get **pseudo labels**: the argmax of the domain
classifier (``genjax.app.domain``), reported as ``labels: "pseudo (domain classifier)"``.

The generator is a seam: anything with ``draw(num, labels, seed) -> images`` (a
:class:`Generator`); :func:`generator_from_run` makes one from a run folder. A perfect
generator of the training set (one that returns the train split itself) gets a CAS equal to
the real-data accuracy: same examples, same order, same classifier seed, so the same
classifier (``tests/app/test_augment.py`` checks it exactly).

Each classifier is its own run folder under ``workdir/runs/`` with an ``augment_run.json``
(what it was trained on, and its accuracy once done); a killed ``genjax augment`` resumes:
finished runs are read back, an interrupted one resumes from its checkpoint, and the drawn
synthetic sets are kept in ``workdir/synthetic/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genjax.config import ConfigError

CONDITIONAL_LABELS = "conditional (the generator's label option)"
PSEUDO_LABELS = "pseudo (domain classifier)"
DEFAULT_FRACTIONS = (0.01, 0.05, 0.1, 1.0)

#: ``draw(num, labels, seed) -> images``: ``num`` model-input images; ``labels`` (int, (num,))
#: the classes to draw for a conditional generator, None for an unconditional one.
Draw = Callable[[int, "np.ndarray | None", int], np.ndarray]


class AugmentError(ConfigError):
    """A ``genjax augment`` input that cannot be used; the message names the fix."""


@dataclasses.dataclass(frozen=True)
class Generator:
    """A source of synthetic examples.

    Attributes:
      name: a short name for tables and run folders (the run folder's name).
      draw: ``draw(num, labels, seed) -> images`` in the classifier's input space
        (float32, the real inputs' per-example shape).
      conditional: ``draw`` takes labels; else it gets ``None`` and its samples are given
        pseudo labels.
      about: what it is (the run folder and its step), for the report.
      options: the names of the sampler options it draws with.
    """

    name: str
    draw: Draw
    conditional: bool
    about: str = ""
    options: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Settings:
    """What ``run_augment`` trains and reports.

    Attributes:
      fractions: real train fractions in (0, 1].
      seeds: how many seeds (0 .. seeds-1).
      synthetic: synthetic examples per set (N).
      mixed: train (b) real + synthetic (``genjax eval``'s CAS trains only (a) and (c)).
    """

    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    seeds: int = 3
    synthetic: int = 4000
    mixed: bool = True


def parse_fractions(text: str | Sequence[float]) -> tuple[float, ...]:
    """``"0.01,0.05,0.1,1.0"`` (or numbers) as fractions, each checked to be in (0, 1].

    Raises:
      AugmentError: not numbers, or a fraction outside (0, 1].
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if item == "":
            continue
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise AugmentError(f"--real-fraction takes numbers in (0, 1] separated by commas, "
                               f"e.g. 0.01,0.05,0.1,1.0; got {item!r}") from None
        if not 0.0 < value <= 1.0 or not math.isfinite(value):
            raise AugmentError(f"a real fraction must be in (0, 1] (1.0: the whole train "
                               f"split), got {value}")
        out.append(value)
    if not out:
        raise AugmentError("--real-fraction needs at least one fraction in (0, 1]")
    return tuple(sorted(set(out)))


def balanced_labels(num: int, num_classes: int) -> np.ndarray:
    """``num`` labels sorted by class, ``num // K`` of each, the remainder to the first
    classes (so ``balanced_labels(4000, 10)`` is 400 of each, in class order)."""
    counts = np.full(num_classes, num // num_classes)
    counts[:num % num_classes] += 1
    return np.repeat(np.arange(num_classes, dtype=np.int32), counts)


def stratified_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Rows of a class-stratified subset: ``round(fraction * n_c)`` (at least 1) random rows
    of each class ``c``, chosen by ``seed``, returned in stored (ascending) order.

    Nested: a seed's rows of class ``c`` are the first ones of one permutation of that class
    (``default_rng([seed, c])``), so a smaller fraction's subset is inside a larger one's;
    ``fraction=1`` is every row, in stored order.
    """
    labels = np.asarray(labels)
    if not 0.0 < fraction <= 1.0:
        raise AugmentError(f"a real fraction must be in (0, 1], got {fraction}")
    rows = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = min(len(members), max(1, int(round(fraction * len(members)))))
        order = np.random.default_rng([seed, int(c)]).permutation(len(members))
        rows.append(members[order[:k]])
    return np.sort(np.concatenate(rows))


# -- the real data, in the classifier's input space ------------------------------------------


def real_split(config, spec, split: str) -> dict[str, np.ndarray]:
    """A whole split of the classifier's dataset as model inputs (its modality's
    ``examples`` and ``transform``): ``{batch_key: float32, "label": int32}``."""
    from genjax.app.experiment import data_dir
    from genjax.data import load_source
    from genjax.data.pipeline import read_records, stack_records
    from genjax.modalities import modality_of

    modality = modality_of(spec)
    source = modality.examples(load_source(config.data.name, split, data_dir(config)), spec,
                               config.data.get("context", 0), train=split == "train")
    take = getattr(source, "take", None)
    rows = np.arange(len(source))
    batch = take(rows) if take is not None else stack_records(read_records(source, rows))
    batch = modality.transform(spec, config.data.image_size or None)(batch)
    return {modality.batch_key: np.asarray(batch[modality.batch_key]),
            "label": np.asarray(batch["label"], np.int32)}


# -- generators ------------------------------------------------------------------------------


def generator_from_run(run_dir: str | Path, sample_options: str = "",
                       chunk: int = 500, only_declared: bool = False
                       ) -> tuple[Generator, Any]:
    """A :class:`Generator` of a trained run folder (see :func:`generator_of`), and that
    run's config.

    Args:
      run_dir: a ``genjax train`` run folder.
      sample_options: sampler options, ``"sampler=dpm++,steps=10"`` (see ``genjax eval``).
      chunk: samples per device call.
      only_declared: pass only the options this model declares (several generators of
        different families share one ``--sample-options``); else any other is refused.

    Raises:
      AugmentError: not a run folder, a model that cannot sample, or a bad sampler option.
    """
    from genjax.app.experiment import load_run
    from genjax.app.sampling import parse_sample_options
    from genjax.core.files import WorkdirError

    run_dir = Path(run_dir)
    try:
        config, experiment, state = load_run(run_dir)
    except WorkdirError as err:
        raise AugmentError(f"generator run {run_dir}: {err}") from err
    objective = experiment.objective
    if not objective.capabilities.sample:
        raise AugmentError(f"generator run {run_dir} holds a {config.family!r} model, which "
                           f"cannot sample: {objective.capabilities.cannot_sample}")
    if only_declared:
        takes = objective.capabilities.option_names()
        sample_options = ",".join(item for item in sample_options.split(",")
                                  if item.partition("=")[0].strip() in takes)
    try:
        options = parse_sample_options(sample_options, objective, config.family)
    except ValueError as err:
        raise AugmentError(f"--sample-options: {err}") from err
    about = (f"{run_dir} ({config.family}, step {int(state.step)}"
             + (f", {sample_options}" if options else "") + ")")
    return generator_of(objective, state, options, run_dir.name or str(run_dir), about,
                        chunk), config


def generator_of(objective, state, options: dict[str, Any], name: str, about: str,
                 chunk: int = 500) -> Generator:
    """A :class:`Generator` drawing from ``objective.sample`` at ``state``.

    Conditional when the objective declares the ``label`` sample option and the model
    accepts one (traced, not run: an unconditional diffusion model refuses ``label``);
    labels are drawn class by class (``label=c``, key ``fold_in(PRNGKey(seed), c)``), an
    unconditional model's samples from ``PRNGKey(seed)``.
    """
    import jax

    from genjax.app.sampling import draw_samples

    conditional = ("label" in objective.capabilities.option_names()
                   and _takes_label(objective, state, options))

    def draw(num: int, labels: np.ndarray | None, seed: int) -> np.ndarray:
        key = jax.random.PRNGKey(seed)
        if labels is None:
            return draw_samples(objective, state, key, num, chunk=min(chunk, num),
                                options=options)
        labels = np.asarray(labels)
        out: np.ndarray | None = None
        for c in np.unique(labels):
            where = np.flatnonzero(labels == c)
            drawn = draw_samples(objective, state, jax.random.fold_in(key, int(c)), len(where),
                                 chunk=min(chunk, len(where)),
                                 options={**options, "label": int(c)})
            if out is None:
                out = np.empty((num, *drawn.shape[1:]), drawn.dtype)
            out[where] = drawn
        assert out is not None
        return out

    return Generator(name, draw, conditional, about, tuple(options))


def _takes_label(objective, state, options: dict) -> bool:
    """Whether the model samples with ``label=0`` (traced with ``jax.eval_shape``)."""
    import functools

    import jax

    fn = functools.partial(objective.sample, **{**options, "label": 0})
    try:
        jax.eval_shape(lambda s, k: fn(s, k, 1), state, jax.random.PRNGKey(0))
    except (ValueError, TypeError):
        return False
    return True


def synthetic_set(generator: Generator, num: int, num_classes: int, seed: int,
                  shape: tuple[int, ...], labeller: Callable[[np.ndarray], np.ndarray] | None,
                  stored: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """``num`` synthetic examples of ``generator``: ``(images, labels, label source)``.

    Args:
      generator: the generator.
      num: how many.
      num_classes: K (balanced labels for a conditional generator).
      seed: the draw's seed.
      shape: the per-example shape the classifier takes (the real inputs').
      labeller: ``images -> labels`` for an unconditional generator (pseudo labels).
      stored: the dataset's stored image shape: samples of that size (a generator trained on
        the images as stored, e.g. 28x28) are padded to ``shape`` with the background value
        -1 exactly as the real images are (``data.image_size``, e.g. 32).

    Raises:
      AugmentError: the draw returned another count or shape, non-finite values, or an
        unconditional generator came without a labeller.
    """
    labels = balanced_labels(num, num_classes) if generator.conditional else None
    images = np.asarray(generator.draw(num, labels, seed), np.float32)
    if (stored is not None and images.shape[1:] == tuple(stored) != tuple(shape)
            and shape[0] >= max(stored[:2])):  # what pad_images gives is checked below
        from genjax.data.pipeline import pad_images

        images = pad_images(images, shape[0], value=-1.0)
    if images.shape != (num, *shape):
        raise AugmentError(
            f"generator {generator.name!r} gave samples of shape {images.shape}, but the "
            f"classifier takes ({num}, {', '.join(map(str, shape))}) (its real inputs); train "
            "the generator on the classifier's dataset and image size, or set "
            "--config data.image_size in the classifier config to the generator's")
    if not np.all(np.isfinite(images)):
        raise AugmentError(f"generator {generator.name!r} gave non-finite samples (NaN/Inf); "
                           "check its run (a diverged checkpoint?)")
    if labels is not None:
        return images, labels, CONDITIONAL_LABELS
    if labeller is None:
        raise AugmentError(f"generator {generator.name!r} is unconditional: its samples need "
                           "pseudo labels from the domain classifier (give a labeller)")
    labels = np.asarray(labeller(images), np.int32)
    if labels.shape != (num,) or labels.min() < 0 or labels.max() >= num_classes:
        raise AugmentError(f"the labeller gave labels of shape {labels.shape} in "
                           f"[{labels.min()}, {labels.max()}]; expected ({num},) in "
                           f"[0, {num_classes})")
    return images, labels, PSEUDO_LABELS


# -- training one classifier -----------------------------------------------------------------


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha1()
    for key in sorted(arrays):
        h.update(key.encode())
        h.update(np.ascontiguousarray(arrays[key]).tobytes())
    return h.hexdigest()[:16]


def tile_to(arrays: dict[str, np.ndarray], at_least: int) -> dict[str, np.ndarray]:
    """``arrays`` repeated whole until they hold at least ``at_least`` rows (a 1% subset of
    40 digits still fills a batch of 64); unchanged when they already do."""
    n = len(next(iter(arrays.values())))
    reps = -(-at_least // n)
    return arrays if reps <= 1 else {k: np.concatenate([v] * reps) for k, v in arrays.items()}


def train_classifier(config, spec, train_arrays: dict[str, np.ndarray],
                     test_arrays: dict[str, np.ndarray], run_dir: Path, about: dict,
                     stop=None) -> float:
    """Trains the classifier ``config`` with the one loop on ``train_arrays`` (model inputs)
    into ``run_dir``; returns its accuracy on ``test_arrays``.

    A finished run (``augment_run.json`` with an accuracy, the same ``about`` and training
    data) is read back, not retrained; an interrupted one resumes from its checkpoint. The
    training holds the run folder's lock (``core.files.WorkdirLock``).

    Raises:
      AugmentError: ``run_dir`` holds a run of another setting.
      WorkdirLockedError: another process is training ``run_dir``.
    """
    from genjax.app.experiment import build_objective, loop_settings
    from genjax.config import to_json
    from genjax.core.files import WorkdirLock, write_atomic
    from genjax.core.loop import train
    from genjax.data import ArraySource, Batches

    record = {**about, "train_examples": len(train_arrays["label"]),
              "train_data": _digest(train_arrays), "steps": config.train.steps,
              "batch_size": config.train.batch_size, "seed": config.seed,
              "classifier": hashlib.sha1(to_json(config).encode()).hexdigest()[:16]}
    path = run_dir / "augment_run.json"
    if path.exists():
        saved = json.loads(path.read_text())
        changed = sorted(k for k in record if saved.get(k) != record[k])
        if changed:
            raise AugmentError(
                f"{run_dir} holds a classifier of another setting (differs in "
                f"{', '.join(changed)}); use another --workdir or move {run_dir} aside")
        if "accuracy" in saved:
            return float(saved["accuracy"])
    run_dir.mkdir(parents=True, exist_ok=True)
    with WorkdirLock(run_dir):  # WorkdirLockedError: another process trains it
        saved = json.loads(path.read_text()) if path.exists() else {}
        if "accuracy" in saved and all(saved.get(k) == v for k, v in record.items()):
            return float(saved["accuracy"])  # another process finished it meanwhile
        write_atomic(run_dir / "config.json", to_json(config) + "\n")
        write_atomic(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
        objective = build_objective(config, spec)
        batches = Batches(ArraySource(tile_to(train_arrays, config.train.batch_size)),
                          config.train.batch_size, config.seed, shuffle=True)
        with contextlib.redirect_stdout(sys.stderr):  # stdout is the command's JSON
            state = train(objective, batches, run_dir, loop_settings(config), config.seed,
                          writer=None, stop=stop)
        accuracy = test_accuracy(objective, state, test_arrays)
        write_atomic(path, json.dumps({**record, "accuracy": accuracy}, indent=1,
                                      sort_keys=True) + "\n")
    return accuracy


def test_accuracy(objective, state, arrays: dict[str, np.ndarray], batch: int = 500) -> float:
    """The share of ``arrays`` (model inputs and labels) the classifier gets right: its
    ``eval_metrics`` accuracy per batch of every example once, weighted by batch size."""
    import jax

    fn = jax.jit(objective.eval_metrics)
    n = len(arrays["label"])
    right = 0.0
    for start in range(0, n, batch):
        part = {k: v[start:start + batch] for k, v in arrays.items()}
        acc = fn(state, part, jax.random.PRNGKey(0))["accuracy"]
        right += float(acc) * len(part["label"])
    return right / n


def classifier_config(name: str, dataset: str, data_dir: str, image_size: int,
                      steps: int | None):
    """The classifier config ``name`` retargeted to the generator's dataset (and image size,
    so the samples and the real inputs have one shape), with one checkpoint at the end and
    no held-out evaluation during training (each run is tested once, on the whole split)."""
    from genjax.config import load_config

    config = load_config(name)
    if config.get("family") != "classifier":
        raise AugmentError(f"--classifier-config {name!r} is a {config.get('family')!r} "
                           "config; give a classifier config, e.g. classifier_mnist")
    config.data.name = dataset
    config.data.data_dir = data_dir
    if image_size:
        config.data.image_size = image_size
    if steps is not None:
        if steps < 1:
            raise AugmentError(f"--steps must be >= 1, got {steps}")
        config.train.steps = steps
    config.train.checkpoint_every = config.train.steps
    config.train.log_every = min(config.train.log_every, config.train.steps)
    config.train.eval_every = 0
    config.train.sample_every = 0
    config.train.num_samples = 0
    return config


# -- the whole experiment --------------------------------------------------------------------


def _fraction_tag(fraction: float) -> str:
    return f"{fraction:g}"


def _mean_se(values: Sequence[float]) -> dict[str, float | None]:
    v = np.asarray(values, np.float64)
    se = float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else None
    return {"mean": float(np.mean(v)), "se": se, "n": len(v), "values": v.tolist()}


def run_augment(generators: Sequence[Generator], config, spec, settings: Settings,
                workdir: Path, labeller: Callable[[np.ndarray], np.ndarray] | None = None,
                stop=None, log: Callable[[str], None] | None = None,
                poll_seconds: float = 10.0) -> dict[str, Any]:
    """Trains and tests every classifier of the experiment; returns the results.

    Args:
      generators: the generators to compare (their (a) runs are shared).
      config: the classifier config (``classifier_config``), its dataset the generators'.
      spec: that dataset's spec (labelled, with train and test splits).
      settings: fractions, seeds, N.
      workdir: where the run folders and synthetic sets go.
      labeller: pseudo labels for unconditional generators.
      stop: a ``core.loop.StopRequest`` polled by every training.
      log: progress lines (default: stderr).
      poll_seconds: how often to look again at runs another process is training.

    Returns:
      ``augment.json``'s contents (see :func:`summarize`).
    """
    say = log or (lambda text: print(text, file=sys.stderr, flush=True))
    if not spec.num_classes:
        raise AugmentError(f"dataset {spec.name!r} has no class labels; CAS needs a labelled "
                           "dataset (e.g. mnist_subset)")
    for split in ("train", "test"):
        if split not in spec.splits:
            raise AugmentError(f"dataset {spec.name!r} has no {split} split")
    if settings.seeds < 1 or settings.synthetic < 1:
        raise AugmentError(f"--seeds and --synthetic must be >= 1, got {settings.seeds} and "
                           f"{settings.synthetic}")
    names = [g.name for g in generators]
    if len(set(names)) != len(names) or "real" in names:
        raise AugmentError(f"the generator runs need distinct folder names (not 'real'), got "
                           f"{names}")
    train_real, test_real = real_split(config, spec, "train"), real_split(config, spec, "test")
    key = next(k for k in train_real if k != "label")
    shape = train_real[key].shape[1:]
    runs = workdir / "runs"
    subsets = {(f, seed): {k: v[stratified_subset(train_real["label"], f, seed)]
                           for k, v in train_real.items()}
               for f in settings.fractions for seed in range(settings.seeds)}
    synthetic: dict[tuple[str, int], tuple[dict[str, np.ndarray], str]] = {}

    def synth(gen: Generator, seed: int) -> tuple[dict[str, np.ndarray], str]:
        if (gen.name, seed) not in synthetic:
            images, labels, source = _cached_synthetic(
                gen, settings.synthetic, spec.num_classes, seed, shape, labeller,
                workdir / "synthetic" / gen.name, say, spec.shape)
            synthetic[gen.name, seed] = {key: images, "label": labels}, source
        return synthetic[gen.name, seed]

    def about_synth(gen: Generator, seed: int) -> dict:
        return {"set": "synthetic", "generator": gen.about, "synthetic": settings.synthetic,
                "labels": synth(gen, seed)[1]}

    # jobs: (run folder, seed, training arrays, what it is), made when the job runs
    jobs: list[tuple[Path, int, Callable[[], dict], Callable[[], dict]]] = []
    for f in settings.fractions:
        for seed in range(settings.seeds):
            jobs.append((runs / f"real-f{_fraction_tag(f)}-s{seed}", seed,
                         lambda f=f, seed=seed: subsets[f, seed],
                         lambda f=f: {"set": "real", "fraction": f}))
    for gen in generators:
        for seed in range(settings.seeds):
            jobs.append((runs / gen.name / f"synthetic-s{seed}", seed,
                         lambda gen=gen, seed=seed: synth(gen, seed)[0],
                         lambda gen=gen, seed=seed: about_synth(gen, seed)))
            for f in settings.fractions if settings.mixed else ():
                jobs.append((
                    runs / gen.name / f"mixed-f{_fraction_tag(f)}-s{seed}", seed,
                    lambda gen=gen, seed=seed, f=f: {
                        k: np.concatenate([subsets[f, seed][k], synth(gen, seed)[0][k]])
                        for k in (key, "label")},
                    lambda gen=gen, seed=seed, f=f: {**about_synth(gen, seed), "set": "mixed",
                                                     "fraction": f}))
    accuracy = _run_jobs(jobs, config, spec, test_real, workdir, stop, say, poll_seconds)

    real = {_fraction_tag(f): [accuracy[runs / f"real-f{_fraction_tag(f)}-s{seed}"]
                               for seed in range(settings.seeds)] for f in settings.fractions}
    per_generator = {}
    for gen in generators:
        folder = runs / gen.name
        mixed = {_fraction_tag(f): [accuracy[folder / f"mixed-f{_fraction_tag(f)}-s{seed}"]
                                    for seed in range(settings.seeds)]
                 for f in settings.fractions} if settings.mixed else {}
        per_generator[gen.name] = {
            "about": gen.about, "labels": synth(gen, 0)[1], "mixed": mixed,
            "cas": [accuracy[folder / f"synthetic-s{seed}"] for seed in range(settings.seeds)]}
    return summarize(real, per_generator, settings, config, spec,
                     {_fraction_tag(f): len(subsets[f, 0]["label"]) for f in settings.fractions})


def _run_jobs(jobs, config, spec, test_real, workdir: Path, stop, say,
              poll_seconds: float) -> dict[Path, float]:
    """Trains (or reads back) every job's classifier; returns ``run folder -> accuracy``.

    A run folder another process is training (its lock held: a second ``genjax augment`` on
    the same workdir) is left for later and waited for once the other jobs are done, so two
    commands share the work and never train one folder at once.
    """
    import time

    import ml_collections

    from genjax.core.files import WorkdirLockedError

    accuracy: dict[Path, float] = {}
    pending = list(jobs)
    while pending:
        busy = []
        for folder, seed, arrays_of, about_of in pending:
            seeded = ml_collections.ConfigDict(config.to_dict())
            seeded.seed = seed
            arrays = arrays_of()
            say(f"genjax augment: [{len(accuracy) + 1}/{len(jobs)}] "
                f"{folder.relative_to(workdir)} ({len(arrays['label'])} examples, "
                f"{seeded.train.steps} steps)")
            try:
                accuracy[folder] = train_classifier(seeded, spec, arrays, test_real, folder,
                                                    about_of(), stop)
            except WorkdirLockedError:
                say("genjax augment:   another process is training it; back to it later")
                busy.append((folder, seed, arrays_of, about_of))
                continue
            say(f"genjax augment:   test accuracy {accuracy[folder]:.4f}")
        if busy and len(busy) == len(pending):
            time.sleep(poll_seconds)
        pending = busy
    return accuracy


def _cached_synthetic(gen: Generator, num: int, num_classes: int, seed: int,
                      shape: tuple[int, ...], labeller, folder: Path, say,
                      stored: tuple[int, ...] | None = None
                      ) -> tuple[np.ndarray, np.ndarray, str]:
    """``synthetic_set``, kept in ``folder/seed<s>-n<N>.npz`` (drawn once; a resumed run
    reads it back when the generator is the same)."""
    from genjax.core.files import written_atomically

    path = folder / f"seed{seed}-n{num}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["about"]) == gen.about and len(saved["labels"]) == num:
                return saved["images"], saved["labels"], str(saved["label_source"])
    say(f"genjax augment: drawing {num} samples of {gen.about} (seed {seed})")
    images, labels, source = synthetic_set(gen, num, num_classes, seed, shape, labeller,
                                           stored)
    folder.mkdir(parents=True, exist_ok=True)
    with written_atomically(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, images=images, labels=labels, label_source=source, about=gen.about)
    return images, labels, source


def summarize(real: dict[str, list[float]], per_generator: dict[str, dict],
              settings: Settings, config, spec, real_examples: dict[str, int]
              ) -> dict[str, Any]:
    """The results: per fraction the real-only accuracy, per generator the CAS, the mixed
    accuracy and the paired gain (b) - (a), each as mean, s.e. and the per-seed values."""
    out: dict[str, Any] = {
        "dataset": spec.name, "classifier_steps": config.train.steps,
        "classifier_batch_size": config.train.batch_size, "seeds": settings.seeds,
        "synthetic": settings.synthetic, "fractions": list(settings.fractions),
        "real_examples": real_examples,
        "real": {tag: _mean_se(v) for tag, v in real.items()},
        "real_data_accuracy": _mean_se(real[_fraction_tag(1.0)]) if "1" in real else None,
        "generators": {},
    }
    for name, g in per_generator.items():
        entry = {"run": g["about"], "labels": g["labels"], "cas": _mean_se(g["cas"])}
        if g["mixed"]:
            entry["mixed"] = {tag: _mean_se(v) for tag, v in g["mixed"].items()}
            entry["gain"] = {tag: _mean_se(np.subtract(v, real[tag])) for tag, v in
                             g["mixed"].items()}
        out["generators"][name] = entry
    return out


def _pm(stat: dict | None, percent: bool = True) -> str:
    if not stat:
        return "-"
    scale = 100.0 if percent else 1.0
    se = "" if stat["se"] is None else f" +- {stat['se'] * scale:.1f}"
    return f"{stat['mean'] * scale:.1f}{se}"


def markdown_table(results: dict[str, Any]) -> str:
    """The results as markdown: accuracy (%) per real fraction and generator, then CAS."""
    gens = results["generators"]
    head = ["real fraction", "real examples", "real only (a)"]
    for name in gens:
        if "mixed" in gens[name]:
            head += [f"real + {results['synthetic']} {name} (b)", f"gain (b) - (a) {name}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fraction in results["fractions"]:
        tag = _fraction_tag(fraction)
        row = [f"{fraction:g}", str(results["real_examples"][tag]), _pm(results["real"][tag])]
        for g in gens.values():
            if "mixed" in g:
                row += [_pm(g["mixed"][tag]), _pm(g["gain"][tag])]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| generator | labels | CAS (c): synthetic only | real-data accuracy |",
              "|---|---|---|---|"]
    for name, g in gens.items():
        lines.append(f"| {name} | {g['labels']} | {_pm(g['cas'])} | "
                     f"{_pm(results['real_data_accuracy'])} |")
    lines += ["", f"Test accuracy (%) on the whole real test split of {results['dataset']}, "
                  f"mean +- s.e. over {results['seeds']} seeds; classifier "
                  f"{results['classifier_steps']} steps of batch "
                  f"{results['classifier_batch_size']}; {results['synthetic']} synthetic "
                  "examples per set. The gain is paired by seed."]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> Path:
    """Accuracy against the real fraction: real only, real + synthetic per generator, and
    each generator's CAS as a horizontal line with its +- s.e. band."""
    from matplotlib.figure import Figure

    from genjax.core.files import written_atomically

    fractions = results["fractions"]
    tags = [_fraction_tag(f) for f in fractions]

    def series(stats: dict) -> tuple[np.ndarray, np.ndarray]:
        means = np.array([100 * stats[t]["mean"] for t in tags])
        ses = np.array([100 * (stats[t]["se"] or 0.0) for t in tags])
        return means, ses

    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    means, ses = series(results["real"])
    ax.errorbar(fractions, means, ses, marker="o", capsize=3, color="black",
                label="real only (a)")
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for i, (name, g) in enumerate(results["generators"].items()):
        color = colors[i % len(colors)]
        if "mixed" in g:
            means, ses = series(g["mixed"])
            ax.errorbar(fractions, means, ses, marker="s", capsize=3, color=color,
                        label=f"real + {results['synthetic']} {name} (b)")
        cas = g["cas"]
        mean, se = 100 * cas["mean"], 100 * (cas["se"] or 0.0)
        ax.axhline(mean, color=color, ls="--", lw=1,
                   label=f"CAS {name}: synthetic only (c)"
                         + (" [pseudo labels]" if g["labels"] == PSEUDO_LABELS else ""))
        ax.axhspan(mean - se, mean + se, color=color, alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.set_xticks(fractions, [f"{100 * f:g}%" for f in fractions])
    ax.set_xlabel("real train fraction")
    ax.set_ylabel(f"test accuracy on real {results['dataset']} (%)")
    ax.set_title(f"generative augmentation and CAS (mean +- s.e., {results['seeds']} seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    with written_atomically(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return path


def write_report(results: dict[str, Any], workdir: Path) -> dict[str, Path]:
    """``augment.json``, ``augment.md`` and ``augment.png`` in ``workdir``."""
    from genjax.core.files import write_atomic

    paths = {"json": workdir / "augment.json", "table": workdir / "augment.md",
             "plot": workdir / "augment.png"}
    write_atomic(paths["json"], json.dumps(results, indent=1, sort_keys=True,
                                           allow_nan=False) + "\n")
    write_atomic(paths["table"], markdown_table(results))
    plot(results, paths["plot"])
    return paths


def domain_labeller(config, classifier_dir: str = "") -> Callable[[np.ndarray], np.ndarray]:
    """Pseudo labels: the argmax of the domain classifier of ``config``'s dataset (trained
    once and cached, ``genjax.app.domain``; ``classifier_dir``: a classifier run to use)."""
    from genjax.app.domain import domain_classifier_dir, load_domain_network

    network = load_domain_network(domain_classifier_dir(config.data.name, config.data.data_dir,
                                                        classifier_dir))

    def label(images: np.ndarray) -> np.ndarray:
        probs = np.concatenate([network(images[i:i + 500])[1]
                                for i in range(0, len(images), 500)])
        return np.argmax(probs, 1).astype(np.int32)

    return label


def augment_runs(generator_dirs: Sequence[str | Path], workdir: str | Path,
                 classifier: str = "classifier_mnist", settings: Settings = Settings(),
                 steps: int | None = None, sample_options: str = "", labeller_dir: str = "",
                 stop=None) -> tuple[dict[str, Any], dict[str, Path]]:
    """``genjax augment``: the experiment for generator run folders; writes the report.

    Args:
      generator_dirs: trained generator run folders (one dataset; their (a) runs are shared).
      workdir: the output folder.
      classifier: a classifier config name or file.
      settings: fractions, seeds, N (``synthetic=0``: as many as the real train split).
      steps: classifier steps (default: the config's).
      sample_options: sampler options of the generators.
      labeller_dir: a classifier run for pseudo labels (default: the cached domain one).
      stop: a ``StopRequest``.

    Returns:
      ``(results, paths written)``.

    Raises:
      AugmentError: bad input (the message names the fix).
    """
    from genjax.app.experiment import data_dir
    from genjax.data import dataset_spec

    if not generator_dirs:
        raise AugmentError("name at least one generator run folder")
    generators, gen_configs = [], []
    several = len(generator_dirs) > 1
    for run in generator_dirs:
        gen, gen_config = generator_from_run(run, sample_options, only_declared=several)
        generators.append(gen)
        gen_configs.append(gen_config)
    if several:
        given = {i.partition("=")[0].strip() for i in sample_options.split(",") if i.strip()}
        used = {name for g in generators for name in g.options}
        if given - used:
            raise AugmentError(f"no generator takes --sample-options "
                               f"{', '.join(sorted(given - used))}")
    datasets = {(c.data.name, c.data.data_dir, c.data.image_size) for c in gen_configs}
    if len(datasets) != 1:
        raise AugmentError(f"the generator runs were trained on different data "
                           f"{sorted(datasets)}; compare generators of one dataset and image "
                           "size per command")
    first = gen_configs[0]
    config = classifier_config(classifier, first.data.name, first.data.data_dir,
                               first.data.image_size, steps)
    spec = dataset_spec(config.data.name, data_dir(config))
    _check_classifier_takes(config, spec, generator_dirs[0])
    if settings.synthetic == 0:
        settings = dataclasses.replace(settings, synthetic=spec.splits["train"])
    labeller = None
    if not all(g.conditional for g in generators):
        labeller = domain_labeller(config, labeller_dir)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = run_augment(generators, config, spec, settings, workdir, labeller, stop)
    return results, write_report(results, workdir)


def _check_classifier_takes(config, spec, run) -> None:
    """The classifier family takes the generator's data (images with labels)."""
    from genjax.app.experiment import build_objective

    if not spec.num_classes:
        raise AugmentError(f"generator run {run} was trained on {spec.name!r}, which has no "
                           "class labels; genjax augment needs a generator of labelled images "
                           "(e.g. trained on mnist_subset)")
    try:
        build_objective(config, spec)
    except ConfigError as err:
        raise AugmentError(f"generator run {run}: its data cannot train the classifier ("
                           f"{err}); genjax augment needs a generator of labelled images"
                           ) from err


def cas_of_run(objective, state, options: dict[str, Any], run_config, cas_dir: Path,
               classifier: str = "classifier_mnist", num: int = 0, steps: int = 0,
               log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``genjax eval``'s opt-in CAS (``eval.cas``): the run's samples train the classifier
    (one seed, seed 0), tested on the real test split, beside the same classifier trained on
    the whole real train split (``cas_floor``: what a perfect generator of the training set
    scores). Run folders go to ``cas_dir``.

    Args:
      objective, state: the evaluated run's model.
      options: its sampler options.
      run_config: its config (the dataset, its image size, ``eval.classifier_dir`` for
        pseudo labels).
      cas_dir: where the classifier runs and the samples go.
      classifier: the classifier config.
      num: synthetic examples (0: as many as the real train split).
      steps: classifier steps (0: the classifier config's).

    Returns:
      ``cas``, ``cas_floor``, ``cas_labels``, ``cas_samples``, ``cas_classifier_steps``.
    """
    from genjax.app.experiment import data_dir
    from genjax.data import dataset_spec

    config = classifier_config(classifier, run_config.data.name, run_config.data.data_dir,
                               run_config.data.image_size, steps or None)
    spec = dataset_spec(config.data.name, data_dir(config))
    _check_classifier_takes(config, spec, "under evaluation")
    generator = generator_of(objective, state, options, "generator",
                             f"step {int(state.step)} {sorted(options.items())}")
    settings = Settings(fractions=(1.0,), seeds=1, synthetic=num or spec.splits["train"],
                        mixed=False)
    labeller = None if generator.conditional else domain_labeller(
        config, run_config.eval.get("classifier_dir", ""))
    results = run_augment([generator], config, spec, settings, cas_dir, labeller, log=log)
    entry = results["generators"]["generator"]
    return {"cas": entry["cas"]["mean"], "cas_floor": results["real"]["1"]["mean"],
            "cas_labels": entry["labels"], "cas_samples": settings.synthetic,
            "cas_classifier_steps": config.train.steps}
