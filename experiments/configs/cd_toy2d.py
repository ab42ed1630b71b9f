"""Consistency distillation of a trained ``edm_toy2d`` run: 1- and 2-step points on the grid.

    genjax train edm_toy2d --workdir runs/edm_toy2d --config.train.steps=15000 \\
        --config.edm.p_mean=-2.5 --config.edm.p_std=1.5
    genjax train cd_toy2d --workdir runs/cd_toy2d --config.model.edm_dir=runs/edm_toy2d
    genjax sample runs/cd_toy2d --steps 1 --num 2500 --out one_step.png

The student is the teacher's MLP (started from its EMA parameters) with the consistency
boundary's preconditioning (the teacher's sigma_data, 2.83 on the grid); each step's
target input is one Heun step of the teacher's probability-flow ODE (2 teacher
evaluations) between adjacent levels of the fixed N = 18 rho-schedule (``s0 = s1 = 17``),
pseudo-Huber loss, level weights N(0.63, 2^2) (``cm_toy2d``'s: iCT's -1.1 shifted by
ln(2.83 / 0.5)), Adam 1e-4 with 100 warm-up steps (the student starts trained), batch 256,
EMA 0.999, 6,000 steps; 2-step sampling re-noises to sigma 0.5.

Expected (``benchmarks/nfe_quality_2d.py --recipes cd_toy2d --data toy2d_grid
--teacher-steps 15000 --teacher-set edm.p_mean=-2.5 edm.p_std=1.5``: 5 seeds vmapped, each
distilled from its own 15,000-step teacher, 2,500 samples, high quality = within 3 std of a
mode): all 25 modes in every seed, 43.6 +- 3.6% high-quality samples in 1 step and 71.9 +-
2.4% in 2 (iCT's ``cm_toy2d`` at the same 6,000 steps: 18.2% / 60.3%; the teacher with Heun
35 NFE: 95.7%); the 5 seeds' 6,000 steps took 142 s vmapped on 2 CPU cores. With
``--config.train.steps=15000`` (339 s): 67.3 +- 1.9% in 1 step, 74.6 +- 2.4% in 2
(all 25 modes; benchmarks/RESULTS.md, "Reflow from a fixed pool of pairs; consistency training for
longer").
"""

import ml_collections

from genjax.configs.cm_toy2d import get_config as cm_toy2d
from genjax.families.consistency.config import cd_base


def get_config() -> ml_collections.ConfigDict:
    config = cd_base()
    config.data.name = "toy2d_grid"
    config.cm.update({"p_mean": 0.63, "ema_decay": 0.999, "mid_sigmas": (0.5,)})
    config.optim.lr = 1e-4
    config.optim.warmup_steps = 100
    config.train = cm_toy2d().train  # iCT's schedule: 6,000 steps, batch 256, logs, samples
    return config
