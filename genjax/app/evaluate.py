"""``genjax eval``: one evaluation for every family, from a run folder.

Two kinds of numbers, each only where it means something:

* held-out numbers of the objective on the WHOLE test split, every example once, averaged
  per example: ``objective.test_metrics`` when a family has it (an ELBO, an IWAE bound, bits
  per dimension), else its ``eval_metrics``; reported with a ``test_`` prefix.
* sample quality: ``eval.num_samples`` samples from the latest checkpoint against the test
  split, through a feature network:
  - MNIST-like data (``genjax.app.domain.is_digit_like``): the domain digit classifier,
    giving ``domain_fid``, ``domain_kid_*``, ``domain_is_*``, ``domain_precision`` /
    ``recall`` / ``density`` / ``coverage``, and class shares, classes covered and the KL
    from uniform of the predicted classes;
  - any image data, when InceptionV3 weights are given (``eval.inception_weights`` or
    ``$GENJAX_INCEPTION_WEIGHTS``): the same metrics without the prefix, as papers report;
  - 2D mixtures: modes captured, high-quality share and reverse KL (DESIGN.md section 3).

Feature statistics stream in float64; samples are drawn and embedded ``eval.batch_size``
at a time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np

from genjax.config import ConfigError

log = logging.getLogger(__name__)

SAMPLE_METRICS = ("fid", "kid", "is", "pr", "dc", "modes")
IMAGE_METRICS = ("fid", "kid", "is", "pr", "dc")
INCEPTION_ENV = "GENJAX_INCEPTION_WEIGHTS"


def parse_metrics(text: str, kind: str) -> tuple[str, ...]:
    """The sample metrics asked for: ``"auto"`` (what the data allows), ``""``/``"none"``, or
    a comma list of ``fid,kid,is,pr,dc`` (images) / ``modes`` (2D mixtures).

    Raises:
      ConfigError: an unknown name, or one the data kind cannot have.
    """
    text = text.strip().lower()
    allowed = IMAGE_METRICS if kind == "image" else ("modes",)
    if text == "auto":
        return allowed
    if text in ("", "none"):
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SAMPLE_METRICS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(SAMPLE_METRICS)} (or auto / none)")
    wrong = [n for n in names if n not in allowed]
    if wrong:
        raise ConfigError(f"metric(s) {', '.join(wrong)} do not apply to {kind} data; "
                          f"it allows {', '.join(allowed)}")
    return names


def iterate_split(source: Any, batch_size: int,
                  transform: Callable[[dict], dict] | None) -> Iterator[dict[str, np.ndarray]]:
    """Every example of a split exactly once, in stored order; the last batch may be smaller."""
    from genjax.data.pipeline import read_records, stack_records

    take = getattr(source, "take", None)
    for start in range(0, len(source), batch_size):
        rows = np.arange(start, min(start + batch_size, len(source)))
        batch = take(rows) if take is not None else stack_records(read_records(source, rows))
        yield transform(batch) if transform is not None else batch


def held_out_metrics(objective, state, batches: Iterator[dict], key: jax.Array) -> dict:
    """Per-example means of ``test_metrics`` (or ``eval_metrics``) over all ``batches``.

    Returns:
      ``{"test_<name>": value}``; batch ``i`` uses ``fold_in(key, i)``.
    """
    fn = jax.jit(getattr(objective, "test_metrics", objective.eval_metrics))
    sums: dict[str, float] = {}
    count = 0
    for i, batch in enumerate(batches):
        n = len(next(iter(batch.values())))
        values = jax.device_get(fn(state, batch, jax.random.fold_in(key, i)))
        for name, value in values.items():
            sums[name] = sums.get(name, 0.0) + float(value) * n
        count += n
    return {f"test_{name}": total / count for name, total in sums.items()}


@dataclasses.dataclass
class _Embeddings:
    """A set of images seen through a feature network, batch by batch: float64 streaming
    statistics always; the features themselves only when KID/PR/DC need them."""

    keep_features: bool
    stats: Any = None
    features: list[np.ndarray] = dataclasses.field(default_factory=list)
    probs: list[np.ndarray] = dataclasses.field(default_factory=list)

    def add(self, features: np.ndarray, probs: np.ndarray) -> None:
        from genjax.metrics import FeatureStats

        features = np.asarray(features, np.float64)
        self.stats = (FeatureStats.from_features(features) if self.stats is None
                      else self.stats.update(features))
        if self.keep_features:
            self.features.append(features)
        self.probs.append(np.asarray(probs, np.float64))

    def all_features(self) -> np.ndarray:
        return np.concatenate(self.features)

    def all_probs(self) -> np.ndarray:
        return np.concatenate(self.probs)


def image_metrics(real: _Embeddings, fake: _Embeddings, names: tuple[str, ...],
                  prefix: str, seed: int) -> dict[str, float]:
    """FID/KID/IS/PR/DC of generated against real embeddings."""
    from genjax import metrics as geval

    out: dict[str, float] = {}
    if "fid" in names:
        out["fid"] = geval.fid_from_stats(real.stats, fake.stats)
    if "kid" in names:
        out["kid_mean"], out["kid_std"] = geval.kid(real.all_features(), fake.all_features(),
                                                    seed=seed)
    if "is" in names:
        out["is_mean"], out["is_std"] = geval.inception_score(fake.all_probs())
    if "pr" in names:
        out["precision"], out["recall"] = geval.precision_recall(real.all_features(),
                                                                 fake.all_features())
    if "dc" in names:
        out["density"], out["coverage"] = geval.density_coverage(real.all_features(),
                                                                 fake.all_features())
    return {f"{prefix}{k}": float(v) for k, v in out.items()}


def class_coverage(probs: np.ndarray, min_share: float = 0.02) -> dict[str, Any]:
    """Class shares of samples, classes with at least ``min_share``, KL from uniform."""
    from genjax.metrics.classes import class_shares, kl_from_uniform

    shares = class_shares(probs)
    return {"class_shares": [round(float(s), 4) for s in shares],
            "classes_covered": int(np.sum(shares >= min_share)),
            "class_kl_uniform": kl_from_uniform(shares)}


def _batched(samples: Callable[[int, int], np.ndarray], total: int,
             batch_size: int) -> Iterator[np.ndarray]:
    for i in range(math.ceil(total / batch_size)):
        yield samples(i, min(batch_size, total - i * batch_size))


def evaluate_run(workdir: str | Path, overrides: list[str] | tuple[str, ...] = (),
                 seed: int = 0, out: str | Path | None = None) -> dict[str, Any]:
    """Evaluates the latest checkpoint of a run folder; writes ``eval.json`` there.

    Args:
      workdir: a run folder written by ``genjax train``.
      overrides: ``eval.KEY=VALUE`` changes (``--config.`` stripped); other keys are refused.
      seed: the sampling / evaluation seed.
      out: the JSON file to write (default ``workdir/eval.json``).

    Returns:
      The results (also written as JSON).

    Raises:
      ConfigError: a non-``eval`` override, or a bad metric list.
      WorkdirError: not a run folder, or no checkpoint.
    """
    from genjax import config as gconfig
    from genjax.app.experiment import data_dir
    from genjax.app.runs import load_run, read_saved_config
    from genjax.data import dataset_spec, load_source
    from genjax.data.pipeline import default_transform

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
    names = parse_metrics(ev.metrics, spec.kind)
    if "test" not in spec.splits:
        raise ConfigError(f"dataset {spec.name!r} has no test split to evaluate on "
                          f"(splits: {', '.join(spec.splits)})")
    started = time.perf_counter()
    config, experiment, state = load_run(workdir, config)
    objective = experiment.objective
    keys = jax.random.split(jax.random.PRNGKey(seed))
    test_source = load_source(config.data.name, "test", data_dir(config))
    transform = default_transform(spec, config.data.image_size or None)
    results: dict[str, Any] = {"workdir": str(workdir), "step": int(state.step),
                               "family": config.family, "dataset": spec.name,
                               "test_examples": len(test_source)}
    results.update(held_out_metrics(
        objective, state, iterate_split(test_source, config.train.batch_size, transform),
        keys[0]))

    cannot_sample = _cannot_sample(objective, state) if names and ev.num_samples else None
    if cannot_sample:
        results["sample_metrics_skipped"] = cannot_sample
    elif names and ev.num_samples:
        results.update(_sample_quality(objective, state, config, spec, names, test_source,
                                       transform, keys[1], seed))
    results["eval_seconds"] = round(time.perf_counter() - started, 1)
    path = Path(out) if out else workdir / "eval.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return results


def _cannot_sample(objective, state) -> str | None:
    """Why the objective cannot sample (a classifier; a VQ-VAE before its prior), or None."""
    try:
        jax.eval_shape(lambda s, k: objective.sample(s, k, 1), state, jax.random.PRNGKey(0))
    except (NotImplementedError, ConfigError) as err:
        return str(err)
    return None


def _sample_quality(objective, state, config, spec, names, test_source, transform, key,
                    seed) -> dict[str, Any]:
    from genjax.app.sampling import draw_samples

    ev = config.eval

    def samples(i: int, n: int) -> np.ndarray:
        return draw_samples(objective, state, jax.random.fold_in(key, i), n, chunk=n)

    out: dict[str, Any] = {"num_samples": ev.num_samples}
    if spec.kind == "points":
        from genjax.data.toy2d import MIXTURES, mixture
        from genjax.metrics import mode_coverage

        if spec.name not in MIXTURES:
            raise ConfigError(f"no mode definition for points dataset {spec.name!r}; mode "
                              f"coverage knows {', '.join(MIXTURES)} (use --metrics none)")
        points = np.concatenate(list(_batched(samples, ev.num_samples, ev.batch_size)))
        out.update(mode_coverage(points, *mixture(spec.name)).as_dict())
        return out

    networks = _feature_networks(config, spec, test_source)
    if not networks:
        log.warning("no feature network for %s: give eval.inception_weights (or $%s) for "
                    "FID/KID/IS; skipping sample metrics", spec.name, INCEPTION_ENV)
        return out
    keep = any(n in names for n in ("kid", "pr", "dc"))
    real = {name: _Embeddings(keep) for name in networks}
    for batch in iterate_split(test_source, ev.batch_size, transform):
        for name, net in networks.items():
            real[name].add(*net(batch["image"]))
    fake = {name: _Embeddings(keep) for name in networks}
    for images in _batched(samples, ev.num_samples, ev.batch_size):
        for name, net in networks.items():
            fake[name].add(*net(images))
    for name, net in networks.items():
        prefix = "domain_" if name == "domain" else ""
        out.update(image_metrics(real[name], fake[name], names, prefix, seed))
        if name == "domain":
            out.update(class_coverage(fake[name].all_probs()))
            out["domain_classifier"] = str(net.run_dir)
            out["domain_classifier_test_accuracy"] = net.test_accuracy
    return out


def _feature_networks(config, spec, test_source) -> dict[str, Callable]:
    """The feature networks that apply: ``domain`` (digits) and/or ``inception`` (weights)."""
    from genjax.app.domain import domain_network_for, is_digit_like, load_domain_network
    from genjax.data.pipeline import images_to_float

    networks: dict[str, Callable] = {}
    if is_digit_like(spec):
        run_dir = domain_network_for(config, config.eval.classifier_dir)
        test = images_to_float()(dict(iterate_split_all(test_source)))
        networks["domain"] = load_domain_network(run_dir, test["image"], test["label"])
    weights = config.eval.inception_weights or os.environ.get(INCEPTION_ENV, "")
    if weights:
        from genjax.metrics.inception import make_feature_fn

        inception = make_feature_fn(weights)

        def embed(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = inception(images)
            return np.asarray(out["pool"]), np.asarray(jax.nn.softmax(out["logits"]))

        networks["inception"] = embed
    return networks


def iterate_split_all(source: Any) -> dict[str, np.ndarray]:
    """A whole (small) split as stacked arrays."""
    parts = list(iterate_split(source, 1000, None))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
