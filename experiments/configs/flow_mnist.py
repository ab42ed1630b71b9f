"""Flow matching on the 5,000 embedded MNIST digits padded to 32x32, with a small UNet.

    genjax train flow_mnist --workdir runs/flow_mnist
    genjax sample runs/flow_mnist --solver heun --steps 25 --out digits.png
    genjax train flow_mnist --workdir runs/flow_mnist_cond --config.model.class_conditional=True
    genjax sample runs/flow_mnist_cond --label 7 --guidance 2.0 --out sevens.png

UNet ch 16, ch_mult (1, 2, 2) (32 -> 16 -> 8, attention at 8x8), one residual block per
level, dropout 0.1; uniform t, the network sees ``1000 t``; Heun with 25 steps (50 network
evaluations) by default.

Runtime, measured on this machine's 2 CPU cores shared with other jobs (load average ~4):
~1.0-1.2 steps/s (batch 64) after a ~30 s compile, so the 4,000 steps take about an hour;
drawing the 64-image grid with Heun 25 (50 NFE) takes ~24 s of ``genjax sample`` (Euler 4:
~11 s, mostly start-up and compile). Expected: the loss (per-pixel velocity MSE) falls from
~1.9 to ~1.3 in the first 60 steps; 1,500 steps (18 min on the shared
cores) give domain FID 148-168 / recall 0.92-0.94 with Heun 9-25 steps, 144 with RK4 12 steps
(500 samples; floor 33 / 0.94; benchmarks/RESULTS.md, the MNIST NFE-vs-quality chart): the
best of the diffusion-era families at that length. The 4,000-step default has not been scored.
``genjax eval`` reports ``test_bpd``: the probability-flow ODE's log-likelihood (RK4, 64 steps,
Hutchinson's divergence with 1 Rademacher probe per image) of the uniformly dequantized
digits. Fewer steps are not a faster version of the same number: on the 1,500-step model
(128 test digits) 8 steps gave -0.12 bits/dim (impossible: below 0), 16 gave 0.94, 32 1.33,
64 1.50, still rising by ~0.17 per doubling (benchmarks/RESULTS.md). 64 steps cost ~4 s per
digit on the 2 shared cores (~30-60 min for the 1,000 test digits; ``--metrics none`` skips
the samples, ``--config.eval.likelihood_steps=16`` gives a quick, low look).
"""

import ml_collections

from genjax.families.flow.config import flow_base


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
    # test_bpd: RK4 with 64 steps (256 network evaluations), Hutchinson with 1 Rademacher probe
    config.eval.likelihood_steps = 64
    config.eval.likelihood_probes = 1
    return config
