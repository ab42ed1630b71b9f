"""EDM on the 5,000 embedded MNIST digits padded to 32x32, with the small UNet of flow_mnist.

    genjax train edm_mnist --workdir runs/edm_mnist
    genjax sample runs/edm_mnist --sampler heun --steps 18 --out digits.png
    genjax train edm_mnist --workdir runs/edm_mnist_cond --config.model.class_conditional=True
    genjax sample runs/edm_mnist_cond --label 7 --guidance 2.0 --out sevens.png

UNet ch 16, ch_mult (1, 2, 2) (32 -> 16 -> 8, attention at 8x8), one residual block per level,
dropout 0.1 (as ``flow_mnist``); EDM's image defaults: ``sigma_data = 0.5``,
``ln sigma ~ N(-1.2, 1.2^2)``, Heun with 18 steps (35 network evaluations) on the rho=7
schedule from 80 to 0.002, no churn (``--s_churn 40 --s_min 0.05 --s_max 50 --s_noise 1.003``
gives the paper's ImageNet churn).

Measured (benchmarks/RESULTS.md, the MNIST NFE-vs-quality chart): 1,500 steps (24 min on
2 shared CPU cores), 500 EMA samples: domain FID 234 / recall 0.93 with Heun 18 (35 network
evaluations; the floor is 33 / 0.94), 255 at 17 NFE, 621 at 7; Euler needs ~100 evaluations
for the same. At this length flow matching (``flow_mnist``: 144-168) is ahead and DDPM
behind (333-359). The 4,000-step default has not been scored. A 60-step smoke run took
7.7 min wall under a load average of 10-12; the EDM loss falls from 2.03 (step 10) to 1.32
(step 60).
"""

import ml_collections

from genjax.families.edm.config import edm_base


def get_config() -> ml_collections.ConfigDict:
    config = edm_base()
    config.data.name = "mnist_subset"
    config.data.image_size = 32
    config.model = ml_collections.ConfigDict({
        "ch": 16, "ch_mult": (1, 2, 2), "num_res_blocks": 1, "attn_resolutions": (8,),
        "dropout": 0.1, "norm_groups": 8, "class_conditional": False, "dtype": "float32"})
    config.edm.ema_decay = 0.999
    config.optim.warmup_steps = 200
    config.optim.lr = 1e-3
    config.train.steps = 4000
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 1000
    config.train.num_samples = 64
    return config
