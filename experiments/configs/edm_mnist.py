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

Not trained or scored here: no domain FID has been measured, so compare it with
``ddpm_mnist`` / ``flow_mnist`` by ``genjax eval`` before trusting it. A 60-step smoke run
(``--config.train.steps=60``, under a load average of 10-12 on this machine's 2 shared CPU
cores) took 7.7 min wall for compile, training and the 64-image Heun-18 grid, with only
1.3 min of CPU time; the EDM loss fell from 2.03 (step 10) to 1.32 (step 60). Expect about
flow_mnist's ~1 step/s (batch 64) on an idle 2-core CPU: the 4,000 steps take about an hour.
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
