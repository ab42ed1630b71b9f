"""Flow matching on the 25-Gaussian grid (toy2d_grid) with an MLP velocity network.

    genjax train flow_toy2d --workdir runs/flow_toy2d
    genjax sample runs/flow_toy2d --solver rk4 --steps 8 --num 2500 --out grid.png

The same network and schedule of training as ``ddpm_toy2d`` (MLP width 128, 3 layers, 64
sinusoidal input features, EMA 0.999, lr 1e-3 with 100 warm-up steps, batch 256, 3,000
steps); the network sees ``1000 t``. Runtime and result: see MEASURED below.
"""

import ml_collections

from genjax.families.flow.config import flow_base

MEASURED = "not yet measured"


def get_config() -> ml_collections.ConfigDict:
    config = flow_base()
    config.data.name = "toy2d_grid"
    config.model = ml_collections.ConfigDict({
        "features": 128, "num_layers": 3, "input_features": 64, "class_conditional": False,
        "dtype": "float32"})
    config.flow.ema_decay = 0.999
    config.flow.solver = "heun"
    config.flow.sample_steps = 25
    config.optim.lr = 1e-3
    config.optim.warmup_steps = 100
    config.train.steps = 3000
    config.train.batch_size = 256
    config.train.log_every = 100
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.num_samples = 2500
    return config
