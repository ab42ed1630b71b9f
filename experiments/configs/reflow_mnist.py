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
Expected numbers: benchmarks/RESULTS.md, the MNIST NFE-vs-quality chart.
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
    config.train.steps = 1500
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 500
    config.train.num_samples = 64
    return config
