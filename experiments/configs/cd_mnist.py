"""Consistency distillation of a trained ``edm_mnist`` run: 1- and 2-step MNIST digits.

    genjax train edm_mnist --workdir runs/edm_mnist
    genjax train cd_mnist --workdir runs/cd_mnist --config.model.edm_dir=runs/edm_mnist
    genjax sample runs/cd_mnist --steps 1 --out one_step.png

The student is the teacher's UNet (started from its EMA parameters) with the consistency
boundary's preconditioning; each step's target input is one Heun step of the teacher's
probability-flow ODE (2 teacher evaluations) between adjacent levels of the fixed N = 18
rho-schedule (``s0 = s1 = 17``, the CD paper's CIFAR-10 setting), pseudo-Huber loss,
levels weighted by N(-1.1, 2^2), Adam 1e-4 (the student starts trained), batch 64, EMA 0.999,
1,000 steps. One step costs about 1.6 iCT steps (the teacher's two forward passes).

Measured from the 1,500-step ``edm_mnist`` teacher (29 min on 2 shared CPU cores; 500 EMA
samples, benchmarks/RESULTS.md): domain FID 763 / recall 0.23 in 1 step, 451 / 0.54 in 2
(iCT's ``cm_mnist``: 693 / 472; the teacher with Heun 18: 234; floor 33).
"""

import ml_collections

from genjax.families.consistency.config import cd_base


def get_config() -> ml_collections.ConfigDict:
    config = cd_base()
    config.data.name = "mnist_subset"
    config.data.image_size = 32
    config.cm.update({"ema_decay": 0.999})
    config.optim.lr = 1e-4
    config.optim.warmup_steps = 100
    config.train.steps = 1000
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 500
    config.train.num_samples = 64
    return config
