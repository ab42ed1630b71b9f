"""The article's DCGAN on the 5,000 embedded real MNIST digits (32x32, CPU default run).

    genjax train dcgan_mnist --workdir runs/dcgan

Runtime: 900 steps in 4 min 24 s wall on 2 otherwise idle CPU cores (3.5 steps/s once
compiled; checkpoints and sample grids included).
Expected (10,000 samples scored by benchmarks/dcgan_anchor.py against the 1,000 test digits
with the domain classifier): domain FID ~138 (real-vs-real floor 19.6; the same networks
trained by the PyTorch DCGAN recipe for 1,500 steps: 188), all ten digits, each with 6-15% of
the samples, KL(class shares || uniform) ~0.03 (benchmarks/RESULTS.md, issue 16).
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    """The article's DCGAN networks (``model.arch='dcgan'``, G 256-128-64, D 64-128-256,
    batch norm), the non-saturating loss, Adam(4e-4, 0.5, 0.999) for both networks (twice the
    family's 2e-4: the lever that mattered at this budget), no EMA, 900 steps of batch 64."""
    config = gan_config()
    config.optim.g_lr = config.optim.d_lr = 4e-4
    config.train.steps = 900
    config.train.checkpoint_every = 300
    config.train.keep_checkpoints = 3
    return config
