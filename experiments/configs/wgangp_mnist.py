"""WGAN-GP (Gulrajani et al., 2017) on the embedded MNIST digits: a layer-norm critic,
lambda 10, five critic updates per generator update, Adam(1e-4, 0.5, 0.9).

    genjax train wgangp_mnist --workdir runs/wgangp

Runtime: each step is 5 critic updates with a double-backward penalty plus one G update:
4.1 s per step measured on 2 CPU cores shared with other jobs (0.92x PyTorch eager's,
benchmarks/RESULTS.md), so the 1,500 steps are 1-2 hours on such a CPU; minutes on a GPU.
Expected: recognisable digits by the end; d_loss (the negative Wasserstein estimate) rises
towards 0 and gp stays small (a full run has not been made on CPU yet).
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    config = gan_config()
    config.model.d_norm = "layer"  # the penalty needs a per-sample critic: no BatchNorm
    config.gan.loss = "wasserstein"
    config.gan.gp_weight = 10.0
    config.gan.n_critic = 5
    config.gan.ema_decay = 0.999
    config.optim = ml_collections.ConfigDict({"g_lr": 1e-4, "d_lr": 1e-4, "b1": 0.5,
                                              "b2": 0.9})
    config.train.steps = 1500
    config.train.checkpoint_every = 500
    config.train.sample_every = 250
    return config
