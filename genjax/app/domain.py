"""The domain feature network: a digit classifier our own loop trains on the embedded digits.

For MNIST-like data (grayscale, labelled, at most 32x32) there is no Inception to download;
the classifier ``classifier_mnist`` trains on the run's own dataset instead (the Stacked-MNIST
way of counting modes). Its penultimate layer gives features for a domain FID/KID and
precision/recall/density/coverage; its predictions give class shares, coverage and the KL
from uniform.

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

from genjax.data.pipeline import pad_images
from genjax.modalities.image import DOMAIN_IMAGE_SIZE

log = logging.getLogger(__name__)

#: Minutes ``classifier_mnist`` took to train on a 2-core CPU shared with other jobs
#: (issue 19: ~6 min), for the one line ``genjax eval`` prints before training it.
TRAIN_MINUTES = 6

def cache_root() -> Path:
    """``$GENJAX_CACHE_DIR`` or ``~/.cache/genjax``."""
    root = os.environ.get("GENJAX_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "genjax"


def domain_classifier_config(dataset: str, data_dir: str = ""):
    """The ``classifier_mnist`` config, retargeted to ``dataset`` (its train split)."""
    from genjax.config import load_config

    config = load_config("classifier_mnist")
    config.data.name = dataset
    config.data.data_dir = data_dir
    config.data.image_size = DOMAIN_IMAGE_SIZE
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
    """A trained digit classifier used as a feature network.

    Attributes:
      run_dir: its run folder.
      test_accuracy: accuracy on its dataset's test split (how far to trust it).
      embed: jitted ``images (B, 32, 32, 1) in [-1, 1] -> (features (B, F), probs (B, K))``.
    """

    run_dir: Path
    test_accuracy: float
    embed: Callable[[np.ndarray], tuple[jax.Array, jax.Array]]

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features and class probabilities of images (B, H, W, 1), H, W <= 32, in [-1, 1]."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[-1] != 1:
            raise ValueError(f"the domain network takes (B, H, W, 1) images, got {images.shape}")
        if images.shape[1:3] != (DOMAIN_IMAGE_SIZE, DOMAIN_IMAGE_SIZE):
            images = pad_images(images, DOMAIN_IMAGE_SIZE, -1.0)
        feats, probs = self.embed(images)
        return np.asarray(feats), np.asarray(probs)


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

    network = DomainNetwork(Path(run_dir), float("nan"), embed)
    if test_images is not None:
        probs = np.concatenate([network(test_images[i:i + 500])[1]
                                for i in range(0, len(test_images), 500)])
        accuracy = float(np.mean(np.argmax(probs, 1) == np.asarray(test_labels)))
        network = dataclasses.replace(network, test_accuracy=accuracy)
    return network


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
