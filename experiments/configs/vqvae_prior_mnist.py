"""The VQ-VAE's second stage: a causal Transformer prior over its 7x7 code grids; samples.

Train the VQ-VAE first, then this stage from its run folder, then sample:

    genjax train vqvae_mnist --workdir runs/vqvae
    genjax train vqvae_prior_mnist --workdir runs/vqvae_prior \\
        --config.model.vqvae_dir=runs/vqvae
    genjax sample runs/vqvae_prior --out digits.png

The VQ-VAE's parameters are copied into this run's checkpoints (model_state["vqvae"]) and
stay frozen; runs/vqvae must still exist (its config.json gives the architecture).
Runtime: about 10 minutes on 2 shared CPU cores (2,000 steps at ~3.3 steps/s). Expected:
test NLL ~2.57 nats per code (~182 bits per 7x7 code grid; uniform codes would be
ln 256 = 5.55 nats), train NLL ~2.16; samples are digit-like strokes, many of them
recognisable digits (docs/vqvae_prior_mnist_samples.png).
"""

import ml_collections

from genjax.config import base_config


def get_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "vqvae_prior"
    config.data.name = "mnist_subset"  # must match the VQ-VAE run's data
    config.model = ml_collections.ConfigDict({
        "vqvae_dir": "",  # the VQ-VAE run folder (required)
        "width": 64,
        "depth": 2,
        "heads": 4,
        "mlp_ratio": 4,
    })
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.99})
    config.train.steps = 2000
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.eval_every = 1000
    config.train.num_samples = 64
    return config
