"""EDM on the 25-Gaussian grid (toy2d_grid) with an MLP denoiser.

    genjax train edm_toy2d --workdir runs/edm_toy2d
    genjax sample runs/edm_toy2d --sampler heun --steps 18 --num 2500 --out grid.png
    genjax sample runs/edm_toy2d --steps 18 --s_churn 10 --num 2500 --out churned.png
    genjax eval runs/edm_toy2d --num-samples 2500

The network and training of ``ddpm_toy2d`` / ``flow_toy2d`` (MLP width 128, 3 layers, 64
sinusoidal input features, EMA 0.999, Adam 1e-3 with 100 warm-up steps, batch 256, 3,000
steps); EDM's preconditioning with ``sigma_data = 2.83`` (the grid's standard deviation),
``ln sigma ~ N(-1.2, 1.2^2)``, Heun with 18 steps (35 network evaluations) on the rho=7
schedule from 80 to 0.002.

Runtime: 3,000 steps at ~29 steps/s, 109 s wall for ``genjax train`` (compile, checkpoints
and the sample plots included) on this machine's 2 CPU cores shared with other jobs (load
average 5-6). Expected (one training seed, 2,500 samples): ``genjax eval`` (Heun 18, 35
network evaluations) finds all 25 modes, 94.7% high-quality samples (within 3 std of a
mode), reverse KL 0.010, ``test_loss`` 0.432 (the held-out EDM loss); eval took 12 s. Over
10 seeds (``benchmarks/nfe_quality_2d.py``, benchmarks/RESULTS.md): 94.4 +- 0.2% at 35 NFE,
95.1% at 49, against 85.6% for ``ddpm_toy2d`` with DDIM-35 and 88.2% with DPM-Solver++-35.
Heun needs its ~18 steps: at 4 or 9 steps (7 or 17 NFE) it is worse than Euler at the same
NFE (the big early steps of the rho=7 schedule).

The ring (``--config.data.name=toy2d_ring``) needs its own noise levels: with
``--config.edm.sigma_data=0.7 --config.edm.p_mean=-2.5 --config.edm.p_std=1.5
--config.train.steps=15000`` 10 seeds reach 95.8 +- 0.1% (Heun, 35 NFE) and 97.1% (99 NFE),
all 8 modes each (benchmarks/RESULTS.md, "EDM on the ring past 95%"). The same noise
levels and length on the grid (``--config.edm.p_mean=-2.5 --config.edm.p_std=1.5
--config.train.steps=15000``, sigma_data unchanged) give 96.0 +- 0.2% at 35 NFE and 97.0% at
99 ("Every diffusion-era family past 95%").
"""

import ml_collections

from genjax.families.edm.config import edm_base


def get_config() -> ml_collections.ConfigDict:
    config = edm_base()
    config.data.name = "toy2d_grid"
    config.model = ml_collections.ConfigDict({
        "features": 128, "num_layers": 3, "input_features": 64, "class_conditional": False,
        "dtype": "float32"})
    config.edm.sigma_data = 2.83
    config.edm.ema_decay = 0.999
    config.optim.lr = 1e-3
    config.optim.warmup_steps = 100
    config.train.steps = 3000
    config.train.batch_size = 256
    config.train.log_every = 100
    config.train.checkpoint_every = 1000
    config.train.sample_every = 1000
    config.train.num_samples = 2500
    return config
