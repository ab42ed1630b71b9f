"""Reflow of a trained ``flow_toy2d`` run: straighter paths for 1- to 8-step sampling.

    genjax train flow_toy2d --workdir runs/flow_toy2d --config.train.steps=15000
    genjax train reflow_toy2d --workdir runs/reflow_toy2d \\
        --config.model.flow_dir=runs/flow_toy2d
    genjax sample runs/reflow_toy2d --solver euler --steps 1 --num 2500 --out grid.png

The student shares the teacher's network and starts at its EMA parameters. At init a fixed
pool of 100,000 pairs is solved once (``reflow.pairs``: standard normal noise and the frozen
teacher's Heun solution from it, 18 steps = 35 network evaluations); each of the 15,000
steps then regresses the straight line from noise to sample on 256 pool rows, one network
pass per step (``--config.reflow.pairs=0`` draws fresh pairs every step instead, 35 teacher
evaluations per step). Uniform t, Adam 1e-3 with 100 warm-up steps, EMA 0.999.

Runtime on 2 idle CPU cores (``genjax train``, compile, checkpoints and sample plots
included): the 15,000-step teacher 214 s, this reflow 226 s (~70 steps/s; start-up, the
pool's solve and checkpoints the rest). That one run (``genjax sample --solver euler
--steps 1|2|4 --num 2500``, ``mode_coverage``): all 25 modes, 84.4 / 88.2 / 90.0%
high-quality samples.

Expected (benchmarks/nfe_quality_2d.py, 10 seeds vmapped, each seed's reflow of its own
15,000-step ``flow_toy2d`` teacher, 2,500 samples, high quality = within 3 std of a mode;
every seed has all modes at every NFE), Euler with 1 / 2 / 4 / 8 steps: grid 86.1 / 88.9 /
90.6 / 92.4% (the teacher: 1.8 / 3.1 / 70.6 / 89.1%), ring (``--config.data.name=toy2d_ring``
for both runs) 71.1 / 90.4 / 94.0 / 95.9% (teacher: 0 / 0 / 1.9 / 73.9%); Heun 7 NFE on the
ring 96.4%. At 35 NFE the student stays near its teacher (Heun: grid 95.8 vs 97.8%, ring
97.7 vs 98.8%). Logit-normal t with more weight near the noise end
(``--config.flow.time_sampling=logit_normal --config.flow.logit_mean=-1.0``,
``--config.flow.logit_std=1.5``) gave the grid 87.2 / 90.0 / 91.6% at 1 / 2 / 4 steps.
The previous recipe (online pairs from an 8-step RK4 teacher, 1,000 steps, a 3,000-step
uniform-t teacher) reached 37% / 60% at 1 / 2 steps on the grid.
"""

import ml_collections

from genjax.families.flow.config import reflow_base


def get_config() -> ml_collections.ConfigDict:
    config = reflow_base()
    config.data.name = "toy2d_grid"
    config.reflow.teacher_solver = "heun"
    config.reflow.teacher_steps = 18
    config.reflow.pairs = 100_000
    config.flow.ema_decay = 0.999
    config.flow.solver = "euler"
    config.flow.sample_steps = 2
    config.optim.lr = 1e-3
    config.optim.warmup_steps = 100
    config.train.steps = 15_000
    config.train.batch_size = 256
    config.train.log_every = 500
    config.train.checkpoint_every = 5000
    config.train.sample_every = 5000
    config.train.num_samples = 2500
    return config
