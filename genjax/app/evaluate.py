"""``genjax eval``: one evaluation for every family, from a run folder.

Two kinds of numbers, each only where it means something:

* held-out numbers of the objective on the WHOLE test split, every example once, averaged
  per example: ``objective.test_metrics`` when the family declares it (an ELBO, an IWAE
  bound, bits per dimension), else its ``eval_metrics``; reported with a ``test_`` prefix.
* sample quality, when the objective declares ``sample``: ``eval.num_samples`` samples from
  the latest checkpoint against the test split, judged by the data's modality
  (``genjax.modalities``): images through feature networks (the domain digit classifier on
  MNIST-like data, which this module trains once and caches; InceptionV3 given its weights),
  2D mixtures by modes captured, high-quality share and reverse KL.

Samples are drawn and judged ``eval.batch_size`` at a time. A translation model that cannot
sample unconditionally (``capabilities.reconstruct_from``, e.g. pix2pix) is judged the same
way on its translations of the test split's sources (the first ``eval.num_samples`` of them,
paired by ``data.pairing``).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import jax
import numpy as np

from genjax.config import ConfigError
from genjax.core.files import write_atomic

INCEPTION_ENV = "GENJAX_INCEPTION_WEIGHTS"


def iterate_split(source: Any, batch_size: int,
                  transform: Callable[[dict], dict] | None,
                  pairing: Callable[[dict, np.ndarray, int], dict] | None = None
                  ) -> Iterator[dict[str, np.ndarray]]:
    """Every example of a split exactly once, in stored order; the last batch may be smaller.

    ``pairing`` (``data.pairing``) adds each batch's source images after ``transform``, as
    ``genjax.data.Batches`` does for an unshuffled split (epoch 0, the same rows)."""
    from genjax.data.pipeline import read_records, stack_records

    take = getattr(source, "take", None)
    for start in range(0, len(source), batch_size):
        rows = np.arange(start, min(start + batch_size, len(source)))
        batch = take(rows) if take is not None else stack_records(read_records(source, rows))
        if transform is not None:
            batch = transform(batch)
        yield pairing(batch, rows, 0) if pairing is not None else batch


def held_out_metrics(objective, state, batches: Iterator[dict], key: jax.Array,
                     progress: Callable[[int], None] | None = None) -> dict:
    """Per-example means of ``test_metrics`` (or ``eval_metrics``) over all ``batches``.

    Args:
      progress: called with each batch's example count, after it is done.

    Returns:
      ``{"test_<name>": value}``; batch ``i`` uses ``fold_in(key, i)``.
    """
    fn = jax.jit(objective.test_metrics if objective.capabilities.test_metrics
                 else objective.eval_metrics)
    sums: dict[str, float] = {}
    count = 0
    for i, batch in enumerate(batches):
        n = len(next(iter(batch.values())))
        values = jax.device_get(fn(state, batch, jax.random.fold_in(key, i)))
        for name, value in values.items():
            sums[name] = sums.get(name, 0.0) + float(value) * n
        count += n
        if progress is not None:
            progress(n)
    return {f"test_{name}": total / count for name, total in sums.items()}


def exponentiated(results: dict[str, Any], pairs: tuple[tuple[str, str], ...]
                  ) -> dict[str, float]:
    """``test_<reported>``: the exponential of each whole-split mean ``test_<name>`` (nats),
    for the objective's ``capabilities.exp_metrics`` pairs (the mean first, then the
    exponential: a perplexity of the whole split, not a mean of per-batch ones)."""
    return {f"test_{reported}": math.exp(results[f"test_{name}"])
            for name, reported in pairs if f"test_{name}" in results}


def ratios(results: dict[str, Any], quads: tuple[tuple[str, str, str, float], ...]
           ) -> dict[str, float]:
    """``test_<reported>``: ``scale`` times the ratio of two whole-split means, for the
    objective's ``capabilities.ratio_metrics`` (a ratio of sums, not a mean of per-batch
    ratios)."""
    return {f"test_{reported}": scale * results[f"test_{num}"] / results[f"test_{den}"]
            for reported, num, den, scale in quads
            if f"test_{num}" in results and f"test_{den}" in results}


def evaluate_run(workdir: str | Path, overrides: list[str] | tuple[str, ...] = (),
                 seed: int = 0, out: str | Path | None = None,
                 report: TextIO | None = None,
                 options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluates the latest checkpoint of a run folder; writes ``eval.json`` there.

    Args:
      workdir: a run folder written by ``genjax train``.
      overrides: ``eval.KEY=VALUE`` changes (``--config.`` stripped); other keys are refused.
      seed: the sampling / evaluation seed.
      out: the JSON file to write (default ``workdir/eval.json``).
      report: where to show progress bars and, at the end, the table of readings
        (``genjax eval``: stderr); None: silent.
      options: sampler options of the generated samples (``genjax eval --sampler dpm++
        --steps 10``), over those of ``eval.sample_options``.

    Returns:
      The results (also written as JSON).

    Raises:
      ConfigError: a non-``eval`` override, a bad metric list, or a sampler option the model
        does not take.
      WorkdirError: not a run folder, or no checkpoint.
    """
    from genjax import config as gconfig
    from genjax.app.experiment import data_dir, load_run, pairing, read_saved_config
    from genjax.app.sampling import check_sample_options, draw_samples, parse_sample_options
    from genjax.data import dataset_spec, load_source
    from genjax.modalities import EvalContext, modality_of

    workdir = Path(workdir)
    bad = [o for o in overrides if not o.startswith(gconfig.EVAL_PREFIX)]
    if bad:
        raise ConfigError(f"genjax eval only changes eval.* keys, not {bad[0].split('=')[0]!r}; "
                          "retrain to change the model or data")
    config = gconfig.with_defaults(read_saved_config(workdir))  # runs saved before eval.*
    gconfig.apply_overrides(config, list(overrides))
    ev = config.eval
    if ev.num_samples < 0 or ev.batch_size < 1:
        raise ConfigError("eval.num_samples must be >= 0 and eval.batch_size >= 1")
    spec = dataset_spec(config.data.name, data_dir(config))
    modality = modality_of(spec)
    try:
        names = modality.parse_metrics(ev.metrics)
    except ValueError as err:
        raise ConfigError(f"eval.metrics: {err}") from err
    if "test" not in spec.splits:
        raise ConfigError(f"dataset {spec.name!r} has no test split to evaluate on "
                          f"(splits: {', '.join(spec.splits)})")
    started = time.perf_counter()
    config, experiment, state = load_run(workdir, config)
    objective, modality = experiment.objective, experiment.modality  # its tokenizer, if any
    try:
        options = {**parse_sample_options(ev.sample_options, objective, config.family),
                   **check_sample_options(objective, options or {}, config.family)}
    except ValueError as err:
        raise ConfigError(f"eval.sample_options / sampler flags: {err}") from err
    keys = jax.random.split(jax.random.PRNGKey(seed))
    test_source = modality.examples(load_source(config.data.name, "test", data_dir(config)),
                                    spec, config.data.get("context", 0), train=False)
    transform = modality.transform(spec, config.data.image_size or None)
    pair = pairing(config, modality)
    results: dict[str, Any] = {"workdir": str(workdir), "step": int(state.step),
                               "family": config.family, "dataset": spec.name,
                               "test_examples": len(test_source)}
    with _bar(report, len(test_source), "held-out test metrics", "example") as bar:
        results.update(held_out_metrics(
            objective, state,
            iterate_split(test_source, config.train.batch_size, transform, pair),
            keys[0], bar.update))
    results.update(exponentiated(results, objective.capabilities.exp_metrics))
    results.update(ratios(results, objective.capabilities.ratio_metrics))

    abilities = objective.capabilities
    translated = not abilities.sample and abilities.translates
    if names and ev.num_samples and not abilities.sample and not translated:
        results["sample_metrics_skipped"] = abilities.cannot_sample
    elif names and ev.num_samples:
        bars: list = []  # opened at the first chunk: feature networks load (or train) first
        num = min(ev.num_samples, len(test_source)) if translated else ev.num_samples
        translate = (translations(objective, state, test_source, transform, pair,
                                  ev.batch_size) if translated else None)

        def samples(i: int, n: int) -> np.ndarray:
            if not bars:
                bars.append(_bar(report, num, f"{'translating' if translated else 'sampling'} "
                                 f"{num} samples", "sample"))
            key = jax.random.fold_in(keys[1], i)
            drawn = (translate(i, n, key) if translate is not None else
                     draw_samples(objective, state, key, n, chunk=n, options=options))
            bars[0].update(n)
            if bars[0].n >= num:
                bars[0].close()  # its time is the sampling's, not the features' after it
            return drawn

        context = EvalContext(
            num_samples=num, batch_size=ev.batch_size, seed=seed,
            inception_weights=ev.inception_weights or os.environ.get(INCEPTION_ENV, ""),
            domain_network=lambda: _domain_network(config, test_source, transform, modality),
            train_records=lambda: load_source(config.data.name, "train", data_dir(config)))
        try:
            quality = modality.sample_quality(
                spec, samples, lambda size: iterate_split(test_source, size, transform),
                names, context)
        except ValueError as err:
            raise ConfigError(str(err)) from err
        finally:
            for bar in bars:
                bar.close()
        results.update({"num_samples": num, "sample_options": options, **quality})
        if translated:
            results["samples_translated_from"] = f"test {abilities.reconstruct_from}"
    if ev.cas and not abilities.sample:
        results["cas_skipped"] = abilities.cannot_sample
    elif ev.cas:
        results.update(_cas(config, workdir, objective, state, options, report))
    results["eval_seconds"] = round(time.perf_counter() - started, 1)
    path = Path(out) if out else workdir / "eval.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(json_safe(results), indent=1, sort_keys=True,
                                  allow_nan=False) + "\n")
    if report is not None:
        from genjax.app.readings import GENERAL, explain

        print(explain(results, {**GENERAL, **modality.readings()}), file=report, flush=True)
    return results


def translations(objective, state, source: Any, transform, pair, batch_size: int
                 ) -> Callable[[int, int, jax.Array], np.ndarray]:
    """``translate(i, n, key)``: the objective's ``reconstruct`` of examples ``[i * batch_size,
    i * batch_size + n)`` of a split (transformed and paired), as float32 NumPy: the samples
    of a translation model (``capabilities.reconstruct_from``)."""
    from genjax.data.pipeline import read_records, stack_records

    fn = jax.jit(objective.reconstruct)
    take = getattr(source, "take", None)

    def translate(i: int, n: int, key: jax.Array) -> np.ndarray:
        rows = np.arange(i * batch_size, i * batch_size + n)
        batch = take(rows) if take is not None else stack_records(read_records(source, rows))
        batch = transform(batch) if transform is not None else batch
        batch = pair(batch, rows, 0) if pair is not None else batch
        return np.asarray(jax.device_get(fn(state, batch, key)), np.float32)

    return translate


def _cas(config, workdir: Path, objective, state, options: dict[str, Any],
         report: TextIO | None) -> dict[str, Any]:
    """The opt-in Classification Accuracy Score (``eval.cas``, ``genjax.app.augment``); its
    classifier runs go to ``WORKDIR/cas/step_<step>/`` (reused by a second evaluation)."""
    from genjax.app.augment import cas_of_run

    ev = config.eval
    if ev.cas_samples < 0 or ev.cas_steps < 0:
        raise ConfigError("eval.cas_samples and eval.cas_steps must be >= 0 (0: the defaults)")

    def log(text: str) -> None:
        if report is not None:
            print(text, file=report, flush=True)

    return cas_of_run(objective, state, options, config,
                      Path(workdir) / "cas" / f"step_{int(state.step)}", ev.cas_classifier,
                      ev.cas_samples, ev.cas_steps, log)


def _bar(stream: TextIO | None, total: int, desc: str, unit: str):
    """A tqdm bar (with ETA) on ``stream``; a silent one without a stream."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=stream is None,
                dynamic_ncols=True, leave=True)


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON ``null``): JSON has
    no NaN, and a file with ``NaN`` in it is not valid JSON for other readers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _domain_network(config, test_source, transform, modality):
    """The run's domain classifier (trained once and cached), with its accuracy on the
    run's test split.

    Raises:
      ConfigError: ``eval.classifier_dir`` holds a classifier of another modality's data.
    """
    from genjax.app.domain import domain_network_for, load_domain_network

    run_dir = domain_network_for(config, config.eval.classifier_dir)
    network = load_domain_network(run_dir)
    if network.modality != modality.name:
        raise ConfigError(f"eval.classifier_dir {run_dir} holds a classifier of "
                          f"{network.modality} data ({network.dataset}); a {modality.name} run "
                          f"needs one trained on {modality.name} data (`genjax train "
                          f"{modality.domain_classifier}`), or leave eval.classifier_dir unset")
    test = transform(iterate_split_all(test_source))
    return network.scored(test[modality.batch_key], test["label"])


def iterate_split_all(source: Any) -> dict[str, np.ndarray]:
    """A whole (small) split as stacked arrays."""
    parts = list(iterate_split(source, 1000, None))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
