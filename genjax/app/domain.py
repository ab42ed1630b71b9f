"""The domain feature network: a classifier our own loop trains on the run's labelled data.

For MNIST-like data (grayscale, labelled, at most 32x32) and spoken digits there is no
Inception to download; the modality's classifier recipe (``Modality.domain_classifier``:
``classifier_mnist`` for images, ``classifier_spoken_digits`` for audio) trains on the run's
own dataset instead (the Stacked-MNIST way of counting modes; the SC09 protocol for audio).
Its penultimate layer gives features for a domain FID/KID and
precision/recall/density/coverage; its predictions give class shares, coverage and the KL
from uniform (the Inception-style score).

``genjax eval`` trains it once per dataset and caches the run folder under
``$GENJAX_CACHE_DIR/classifiers/`` (default ``~/.cache/genjax/classifiers/``); a
``--config.eval.classifier_dir`` run folder is used as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

log = logging.getLogger(__name__)

#: Minutes ``classifier_mnist`` took to train on a 2-core CPU shared with other jobs
#: (issue 19: ~6 min), for the one line ``genjax eval`` prints before training it.
TRAIN_MINUTES = 6

def cache_root() -> Path:
    """``$GENJAX_CACHE_DIR`` or ``~/.cache/genjax``."""
    root = os.environ.get("GENJAX_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "genjax"


def domain_classifier_config(dataset: str, data_dir: str = ""):
    """The classifier recipe of ``dataset``'s modality, retargeted to ``dataset`` (its train
    split).

    Raises:
      WorkdirError: a modality without a domain classifier.
    """
    from genjax.app.experiment import WorkdirError
    from genjax.config import load_config
    from genjax.data import dataset_spec
    from genjax.modalities import modality_of

    modality = modality_of(dataset_spec(dataset, data_dir or None))
    if not modality.domain_classifier:
        raise WorkdirError(f"{modality.name} data (dataset {dataset!r}) has no domain "
                           "classifier; give a classifier run folder (eval.classifier_dir)")
    config = load_config(modality.domain_classifier)
    config.data.name = dataset
    config.data.data_dir = data_dir
    return config


def cached_classifier_dir(dataset: str, data_dir: str = "") -> Path:
    """Where the domain classifier of ``dataset`` (read from ``data_dir``) is cached."""
    where = hashlib.sha1(str(Path(data_dir).absolute() if data_dir else "").encode())
    return cache_root() / "classifiers" / f"{dataset}-{where.hexdigest()[:8]}"


def train_domain_classifier(config, workdir: Path) -> Path:
    """Trains ``config`` (a classifier config) into ``workdir``, a normal run folder."""
    from genjax.app.experiment import build
    from genjax.config import to_json
    from genjax.core.files import write_atomic
    from genjax.core.loop import train

    workdir.mkdir(parents=True, exist_ok=True)
    experiment = build(config)
    write_atomic(workdir / "config.json", to_json(config) + "\n")
    print(f"training the evaluation network (once, {config.train.steps} steps on "
          f"{config.data.name}, ~{TRAIN_MINUTES} min on a 2-core CPU; the bar below shows "
          f"this machine's ETA); cached in {workdir}", file=sys.stderr, flush=True)
    # its progress goes to stderr: the stdout of `genjax eval` / `genjax fid` is their JSON
    with contextlib.redirect_stdout(sys.stderr):
        train(experiment.objective, experiment.train_batches, workdir, experiment.settings,
              config.seed, eval_batches=experiment.eval_batches, writer=experiment.modality)
    return workdir


@dataclasses.dataclass(frozen=True)
class DomainNetwork:
    """A trained classifier used as a feature network.

    Attributes:
      run_dir: its run folder.
      test_accuracy: accuracy on its dataset's test split (how far to trust it).
      embed: jitted ``inputs -> (features (B, F), probs (B, K))`` on the classifier's input
        shape (images (B, 32, 32, 1) in [-1, 1]; clips (B, 16000)).
      fit: examples as the classifier's inputs (``Modality.domain_inputs`` of its data:
        MNIST's 28x28 padded to 32; raises ValueError on a shape it cannot take).
      modality: the modality of the data it was trained on.
      dataset: that dataset's name.
    """

    run_dir: Path
    test_accuracy: float
    embed: Callable[[np.ndarray], tuple[jax.Array, jax.Array]]
    fit: Callable[[np.ndarray], np.ndarray]
    modality: str = ""
    dataset: str = ""

    def __call__(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features and class probabilities of a batch of examples (images (B, H, W, 1) with
        H, W <= 32, or clips (B, T)), in [-1, 1]."""
        feats, probs = self.embed(self.fit(inputs))
        return np.asarray(feats), np.asarray(probs)

    def scored(self, inputs: np.ndarray, labels: np.ndarray) -> DomainNetwork:
        """This network with ``test_accuracy`` measured on held-out ``inputs`` / ``labels``."""
        probs = np.concatenate([self(inputs[i:i + 500])[1] for i in range(0, len(inputs), 500)])
        accuracy = float(np.mean(np.argmax(probs, 1) == np.asarray(labels)))
        return dataclasses.replace(self, test_accuracy=accuracy)


def load_domain_network(run_dir: Path, test_images: np.ndarray | None = None,
                        test_labels: np.ndarray | None = None) -> DomainNetwork:
    """The classifier of a run folder as a ``DomainNetwork``.

    Args:
      run_dir: a ``classifier`` run folder.
      test_images, test_labels: held-out digits to report its accuracy on (optional).

    Returns:
      The network; ``test_accuracy`` is NaN without test data.
    """
    from genjax.app.experiment import WorkdirError, load_run

    config, experiment, state = load_run(Path(run_dir))
    classifier = experiment.objective
    if config.family != "classifier":
        raise WorkdirError(f"{run_dir} holds a {config.family!r} run, not a classifier; "
                           "point eval.classifier_dir at a `genjax train classifier_mnist` run")
    module, params = classifier.module, state.params

    @jax.jit
    def embed(images):
        feats = module.apply({"params": params}, images, method=module.embed)
        return feats, classifier.predict(params, images)

    spec, image_size = experiment.spec, config.data.get("image_size") or None
    network = DomainNetwork(Path(run_dir), float("nan"), embed,
                            lambda x: experiment.modality.domain_inputs(x, spec, image_size),
                            experiment.modality.name, spec.name)
    return network if test_images is None else network.scored(test_images, test_labels)


def domain_network_for(config, classifier_dir: str = "", steps: int | None = None) -> Path:
    """The run folder of the domain classifier for a run's dataset, training it if needed.

    Args:
      config: the evaluated run's config (its ``data.name`` / ``data.data_dir``).
      classifier_dir: an existing classifier run folder to use as it is ("" -> the cache).
      steps: training steps when it must be trained (default: ``classifier_mnist``'s).

    Returns:
      The classifier's run folder.
    """
    return domain_classifier_dir(config.data.name, config.data.data_dir, classifier_dir, steps)


def domain_classifier_dir(dataset: str, data_dir: str = "", classifier_dir: str = "",
                          steps: int | None = None) -> Path:
    """The run folder of the domain classifier trained on ``dataset``, training it into the
    cache once if needed (see ``domain_network_for``; ``genjax fid --network domain`` names
    the dataset instead of a run)."""
    if classifier_dir:
        return Path(classifier_dir)
    workdir = cached_classifier_dir(dataset, data_dir)
    clf_config = domain_classifier_config(dataset, data_dir)
    if steps is not None:
        clf_config.train.steps = steps
        clf_config.train.checkpoint_every = steps
        clf_config.train.eval_every = steps
    checkpoints = workdir / "checkpoints"
    latest = max((int(p.name) for p in checkpoints.iterdir() if p.name.isdigit()),
                 default=-1) if checkpoints.is_dir() else -1
    if latest < clf_config.train.steps:  # not trained yet, or interrupted: (re)train, resume
        train_domain_classifier(clf_config, workdir)
    return workdir
