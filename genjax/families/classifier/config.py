"""The ``classifier`` family's smallest config (named recipes: ``classifier_mnist``)."""

import ml_collections

from genjax.config import base_config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The registry's contract test config: a narrow digit classifier on scikit-learn's 8x8
    digits padded to 32x32 (the domain network's input size)."""
    config = base_config()
    config.family = "classifier"
    config.data.name = "digits"
    config.data.image_size = 32
    config.model = ml_collections.ConfigDict({"features": 16, "dropout": 0.3})
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.update({"batch_size": 16, "num_samples": 0, "sample_every": 0})
    return config
