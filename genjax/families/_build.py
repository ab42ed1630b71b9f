"""Small helpers the families' ``build`` functions share (config -> typed pieces)."""

from __future__ import annotations

import ml_collections
import optax

from genjax.data.tfds import DatasetSpec


def adam(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """``optax.adam`` from ``optim.lr``, ``optim.b1``, ``optim.b2``."""
    return optax.adam(optim.lr, b1=optim.b1, b2=optim.b2)


def image_size(config: ml_collections.ConfigDict, spec: DatasetSpec) -> int:
    """``data.image_size`` (images padded to it), else the dataset's own height."""
    return config.data.image_size or spec.shape[0]
