"""The article's DCGAN on the 5,000 embedded real MNIST digits (32x32, CPU default run).

    genjax train dcgan_mnist --workdir runs/dcgan

Runtime: about 4.5 minutes on 2 CPU cores (~0.31 s per step, compile ~7 s). Expected:
recognisable digits of all ten classes in runs/dcgan/samples/; per-class shares from the
digit classifier are in benchmarks/RESULTS.md.
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    """The ``gan`` family's defaults are this recipe: the article's DCGAN networks
    (``model.arch='dcgan'``, G 256-128-64, D 64-128-256, batch norm), the non-saturating loss,
    Adam(2e-4, 0.5, 0.999) for both networks, no EMA, 700 steps of batch 64."""
    config = gan_config()
    config.train.keep_checkpoints = 3
    return config
