"""Digit classifier on the embedded MNIST digits: the domain feature network for evaluation.

    genjax train classifier_mnist --workdir runs/classifier

Runtime: about 1 minute on 2 CPU cores. Expected: test accuracy >= 97% (eval_accuracy in
runs/classifier/metrics.jsonl).
"""

import ml_collections

from genjax.config import base_config


def get_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "classifier"
    config.data.name = "mnist_subset"
    config.data.image_size = 32  # the same padding as the DCGAN's samples
    config.model = ml_collections.ConfigDict({"features": 128, "dropout": 0.3})
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.steps = 600
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 600
    config.train.sample_every = 0
    config.train.eval_every = 200
    config.train.num_samples = 0
    return config
