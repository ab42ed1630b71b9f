"""Flow matching on the 5,000 embedded MNIST digits padded to 32x32, with a small UNet.

    genjax train flow_mnist --workdir runs/flow_mnist
    genjax sample runs/flow_mnist --solver heun --steps 25 --out digits.png
    genjax train flow_mnist --workdir runs/flow_mnist_cond --config.model.class_conditional=True
    genjax sample runs/flow_mnist_cond --label 7 --guidance 2.0 --out sevens.png

UNet ch 16, ch_mult (1, 2, 2) (32 -> 16 -> 8, attention at 8x8), one residual block per
level, dropout 0.1; uniform t, the network sees ``1000 t``; Heun with 25 steps (50 network
evaluations) by default. Runtime and result: see MEASURED below.
"""

import ml_collections

from genjax.families.flow.config import flow_base

MEASURED = "not yet measured"


def get_config() -> ml_collections.ConfigDict:
    config = flow_base()
    config.data.name = "mnist_subset"
    config.data.image_size = 32
    config.model = ml_collections.ConfigDict({
        "ch": 16, "ch_mult": (1, 2, 2), "num_res_blocks": 1, "attn_resolutions": (8,),
        "dropout": 0.1, "norm_groups": 8, "class_conditional": False, "dtype": "float32"})
    config.flow.ema_decay = 0.999
    config.flow.label_dropout = 0.1
    config.optim.warmup_steps = 200
    config.optim.lr = 1e-3
    config.train.steps = 4000
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 1000
    config.train.num_samples = 64
    return config
