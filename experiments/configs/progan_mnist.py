"""Progressive growing (Karras et al., 2018) on the embedded MNIST digits: 4 -> 8 -> 16 ->
32 with fade-ins, non-saturating loss with R1 (gamma 1) and an EMA generator.

    genjax train progan_mnist --workdir runs/progan

Schedule: 300 steps at 4x4, then per level 300 fade-in + 300 stable steps: grown to 32x32
by step 2100, 2400 steps in all. The phase is a function of the checkpoint's step, so a run
resumed mid-fade continues exactly. Runtime: at 32x32, 10.5 s per step measured on 2 CPU
cores shared with other jobs (1.13x PyTorch eager's: on CPU every level's branch runs and
the current one is selected, see ProgressiveGAN), so the schedule is hours on such a CPU;
it is meant for a GPU. Expected: blurry digit shapes at low levels that sharpen at each
level; metrics.jsonl logs level and alpha (a full run has not been made on CPU yet).
"""

import ml_collections

from genjax.families.gan.config import gan_config


def get_config() -> ml_collections.ConfigDict:
    config = gan_config()
    config.model.arch = "progressive"
    config.model.latent_dim = 128
    config.model.g_features = (128, 128, 64, 32)
    config.model.d_features = (128, 128, 64, 32)
    config.model.stable_steps = 300
    config.model.fade_steps = 300
    config.gan.r1_weight = 1.0
    config.gan.ema_decay = 0.999
    config.optim = ml_collections.ConfigDict({"g_lr": 1e-3, "d_lr": 1e-3, "b1": 0.0,
                                              "b2": 0.99})
    config.train.steps = 2400
    config.train.checkpoint_every = 600
    config.train.sample_every = 300
    return config
