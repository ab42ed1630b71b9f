"""DDPM on the 5,000 embedded real MNIST digits (28x28) with a small UNet, CPU-feasible.

    genjax train ddpm_mnist --workdir runs/ddpm_mnist
    genjax sample runs/ddpm_mnist --sampler ddim --steps 50 --out digits.png
    genjax eval runs/ddpm_mnist          # 2,000 DPM-Solver++ samples, 50-term bound
    genjax eval runs/ddpm_mnist --num-samples 10000 --sampler ddim --steps 50   # the long one

Runtime: one step (batch 64) took ~1.6 s on 2 nearly idle CPU cores (5.2 s while several
other jobs ran; PyTorch eager took 9.2 s for the same step then, benchmarks/RESULTS.md), so
4,000 steps are hours there; ``--config.model.ch=16`` has 4x fewer FLOPs (~1 step/s with one
other job running). Measured with ch 16,
stopped at step 2,500 (~95 min on the shared cores): 2,000 DDIM-50 samples have domain FID
246 (the 700-step DCGAN: 587 on the same count), recall 0.90, all ten classes between 6% and
16% of the samples (benchmarks/RESULTS.md, docs/ddpm_mnist_samples.png); some samples are
still noisy at that length. The exact bits/dim bound
(``eval.bound_timesteps=0``) runs the UNet T=1000 times per test image: ~1,000x an epoch of
forward passes, too slow for 2 CPU cores; this config's ``bound_timesteps=50`` evaluates
50 evenly spaced KL terms (weighted) plus the exact prior and decoder terms.

``genjax eval`` defaults sized for a CPU: the 50-term bound on the 1,000 test digits and
2,000 samples by DPM-Solver++(2M) in 10 steps (``eval.sample_options``), ~70,000 UNet image
passes in all. Measured (a 2-step run, the domain classifier already cached, 2 cores shared
with other jobs at load average 15-18): 36 min 41 s wall, 22 CPU-minutes (the process got
60% of a core on average): the bound over the 1,000 test digits took 29.5 min, the 2,000
DPM-Solver++ samples 5.6 min, the features and metrics the rest; on 2 idle cores the same
CPU time is ~11-15 minutes. ``--config.eval.bound_timesteps=10`` cuts the bound ~5x;
``--metrics none`` skips the samples. A 2,000-sample FID is biased upward (eval says so):
compare runs at the same count, or pass ``--num-samples 10000``.
"""

import ml_collections

from genjax.families.diffusion.config import ddpm_base


def get_config() -> ml_collections.ConfigDict:
    config = ddpm_base()
    config.data.name = "mnist_subset"
    config.model = ml_collections.ConfigDict({
        "ch": 32, "ch_mult": (1, 2, 2), "num_res_blocks": 1, "attn_resolutions": (7,),
        "dropout": 0.1, "norm_groups": 8, "class_conditional": False, "dtype": "float32"})
    config.diffusion.ema_decay = 0.999
    config.optim.warmup_steps = 200
    config.optim.lr = 1e-3
    config.train.steps = 4000
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 1000
    config.train.num_samples = 64
    config.eval.bound_timesteps = 50
    config.eval.num_samples = 2000
    config.eval.sample_options = "sampler=dpm++,steps=10"
    return config
