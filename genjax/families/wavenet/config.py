"""The ``wavenet`` config schema and its smallest config."""

import ml_collections

from genjax.config import base_config


def wavenet_base() -> ml_collections.ConfigDict:
    """WaveNet defaults: ``spoken_digits``, 2 blocks of dilations 1..512 (receptive field
    2,048 samples, 128 ms), 64 residual / 128 skip channels, label-conditioned, random crops
    of 4,000 samples, Adam 1e-3 with clipping; samples of 1 s at temperature 1.

    ``model``: ``blocks`` x ``layers`` residual layers of dilations ``2 ** (i % layers)``,
    ``residual`` and ``skip`` channels, ``conditional`` (global label conditioning).
    """
    config = base_config()
    config.family = "wavenet"
    config.data.name = "spoken_digits"
    config.data.segment = 4000  # training crop in samples (0.25 s at 16 kHz)
    config.train.update({"batch_size": 16, "num_samples": 10, "eval_every": 0})
    config.model = ml_collections.ConfigDict({
        "blocks": 2, "layers": 10, "residual": 64, "skip": 128, "conditional": True})
    config.optim = ml_collections.ConfigDict({
        "lr": 1e-3, "b1": 0.9, "b2": 0.999, "warmup_steps": 0, "grad_clip": 1.0})
    config.sample = ml_collections.ConfigDict({"length": 16_000, "temperature": 1.0})
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The smallest WaveNet (the registry's contract test): 3 layers (dilations 1, 2, 4),
    8 / 16 channels, crops of 64 samples of ``spoken_digits_tiny``, samples of 32."""
    config = wavenet_base()
    config.data.name = "spoken_digits_tiny"
    config.data.segment = 64
    config.model.update({"blocks": 1, "layers": 3, "residual": 8, "skip": 16})
    config.sample.length = 32
    config.train.update({"batch_size": 8, "num_samples": 2})
    return config
