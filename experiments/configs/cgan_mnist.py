"""Class-conditional DCGAN on the embedded MNIST digits (label embedding in G, projection D).

    genjax train cgan_mnist --workdir runs/cgan
    genjax sample runs/cgan --label 3 --out threes.png

Runtime: not yet measured; the networks are the DCGAN's (plus an embedding and a projection),
so expect about the DCGAN's ~0.31 s per step on 2 idle cores, ~4 minutes for 700 steps.
Expected: digits of the requested class; samples/ grids show the classes 0-9 column by
column (not yet verified by a full run).
"""

import ml_collections

from experiments.configs._gan import gan_config


def get_config() -> ml_collections.ConfigDict:
    config = gan_config()
    config.model.conditional = True
    config.gan.ema_decay = 0.999
    config.train.num_samples = 100  # 10 x 10 grid: one class per column
    return config
