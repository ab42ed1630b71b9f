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

The best measured ring recipe (issue 16; benchmarks/RESULTS.md "frozen BatchNorm
statistics for G") is NOT the default, because it does not carry over to the grid (20.3 of
25 modes, 3.4% HQ over 3 seeds at 2,000 steps): PacGAN2, Adam 1e-3 (0.5, 0.99) warmed up 100
steps and cosine-decayed to 0, an EMA of G, and G's BatchNorm statistics frozen from step
500 on. On the ring, 4,000 steps: every seed has all 8 modes with 96.0 +- 0.6% of the samples
within 3 std (3 seeds; 187 s for the 3 seeds vmapped on 2 idle cores). To train it:
``--config.model.pack=2 --config.train.batch_size=200 --config.optim.g_lr=1e-3
--config.optim.d_lr=1e-3 --config.optim.b1=0.5 --config.optim.b2=0.99
--config.optim.lr_schedule=cosine --config.optim.warmup_steps=100
--config.gan.ema_decay=0.999 --config.gan.freeze_g_stats_at=500``.

The best measured grid recipe (issue 16, 2026-12-03) adds a stronger discriminator: 5 D
updates per G update and G at 3e-4 (D at 1e-3), frozen statistics from step 1,000. On
``toy2d_grid``, 4,000 steps, 3 seeds: 24.67 +- 0.33 of 25 modes, 62.3 +- 1.7% high-quality
samples (the recipe above: 20.3 / 3.4%), 935 s for the 3 seeds vmapped: each step costs ~3.5x
the recipe above, so 10 seeds of it exceed 30 minutes on 2 cores. Overrides:
``--config.data.name=toy2d_grid --config.model.pack=2 --config.train.batch_size=200
--config.optim.g_lr=3e-4 --config.optim.d_lr=1e-3 --config.optim.b1=0.5 --config.optim.b2=0.99
--config.optim.lr_schedule=cosine --config.optim.warmup_steps=100 --config.gan.n_critic=5
--config.gan.ema_decay=0.999 --config.gan.freeze_g_stats_at=1000``.
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
