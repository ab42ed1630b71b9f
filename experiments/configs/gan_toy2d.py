"""The 2D mode-collapse protocol (PacGAN): MLP generator (4 x 400, ReLU + BN), maxout
discriminator (3 x 200, 5 pieces), Adam(1e-4, beta1 0.8), batch 100, on toy2d_ring.

    genjax train gan_toy2d --workdir runs/toy2d
    genjax train gan_toy2d --workdir runs/toy2d_grid --config.data.name=toy2d_grid
    genjax train gan_toy2d --workdir runs/pacgan4 --config.model.pack=4 \\
        --config.train.batch_size=400

Runtime: ~0.16 s per step measured on 2 CPU cores shared with other jobs (load ~12), so
the default 4000 steps take ~10 minutes there.
benchmarks/toy2d_modes.py trains many seeds of these recipes at once and scores them.
Expected: samples/ shows points gathering on the ring's modes (see benchmarks/RESULTS.md
for modes captured and high-quality share at this length).
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    config = gan_config()
    config.data.name = "toy2d_ring"
    config.data.image_size = 0
    config.model.arch = "mlp"
    config.model.latent_dim = 2
    config.optim.update({"g_lr": 1e-4, "d_lr": 1e-4, "b1": 0.8, "b2": 0.999})
    config.train.steps = 4000
    config.train.batch_size = 100
    config.train.log_every = 100
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.num_samples = 2500
    return config
