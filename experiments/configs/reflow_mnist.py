"""Reflow of a trained ``flow_mnist`` run: straighter paths for 1- to 8-step MNIST digits.

    genjax train flow_mnist --workdir runs/flow_mnist --config.train.steps=1500
    genjax train reflow_mnist --workdir runs/reflow_mnist \\
        --config.model.flow_dir=runs/flow_mnist
    genjax sample runs/reflow_mnist --solver euler --steps 2 --out two_steps.png

The student is the teacher's UNet, started at its EMA parameters. At init a fixed pool of
5,000 pairs is solved once (``reflow.pairs``: standard normal noise and the frozen teacher's
Heun solution from it, 8 steps = 15 network evaluations per pair); each of the 1,500 steps
then regresses the straight line from noise to sample on 64 pool rows, one UNet pass per
step, like the teacher's own step. Uniform t, Adam 1e-3 with 100 warm-up steps, EMA 0.999.

Runtime on 2 shared CPU cores: ~5 min from start to the first step (the pool's 75,000
teacher evaluations and compilation), then ~0.9 steps/s: 33 min in all. Measured from a
1,500-step ``flow_mnist`` teacher (500 EMA samples, domain FID (recall) against the 1,000
test digits; floor 33.2 (0.94); benchmarks/RESULTS.md, the MNIST NFE-vs-quality chart):
Euler 1 / 2 / 4 / 8 steps 299 (0.74) / 288 (0.81) / 253 (0.92) / 191 (0.89), Heun 3 NFE
234; the teacher at those Euler steps 2,277 / 984 / 406 / 214, at Heun 17 NFE 158 (the
student there: 202). iCT's ``cm_mnist`` at 1 / 2 steps: 693 / 472.
"""

import ml_collections

from genjax.families.flow.config import reflow_base


def get_config() -> ml_collections.ConfigDict:
    config = reflow_base()
    config.data.name = "mnist_subset"
    config.data.image_size = 32
    config.reflow.teacher_solver = "heun"
    config.reflow.teacher_steps = 8
    config.reflow.pairs = 5000
    config.flow.ema_decay = 0.999
    config.flow.solver = "euler"
    config.flow.sample_steps = 2
    config.optim.lr = 1e-3
    config.optim.warmup_steps = 100
    config.train.update({"steps": 1500, "batch_size": 64, "log_every": 50,
                         "checkpoint_every": 500, "sample_every": 500, "num_samples": 64})
    return config
