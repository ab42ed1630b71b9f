"""Class-conditional DCGAN on the embedded MNIST digits (label embedding in G, projection D).

    genjax train cgan_mnist --workdir runs/cgan
    genjax sample runs/cgan --label 3 --out threes.png

Runtime: 700 steps took 12 min on 2 CPU cores shared with other jobs (~0.85 steps/s; the
step is 0.77x PyTorch eager's, benchmarks/RESULTS.md). Expected: digits of the requested
class; samples/ grids show the classes 0-9 column by column. Measured after 700 steps
(benchmarks/conditional_accuracy.py): 93.8% of samples drawn for a label are classified as
that label by the domain classifier (from 80% for 9 to 100% for 7).
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    config = gan_config()
    config.model.conditional = True
    config.gan.ema_decay = 0.999
    config.train.num_samples = 100  # 10 x 10 grid: one class per column
    return config
