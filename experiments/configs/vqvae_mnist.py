"""VQ-VAE (EMA codebook + dead-code restarts) on the 5,000 embedded MNIST digits, 7x7 codes.

Two stages; sampling goes through the second (the learned prior over code grids):

    genjax train vqvae_mnist --workdir runs/vqvae
    genjax train vqvae_prior_mnist --workdir runs/vqvae_prior \\
        --config.model.vqvae_dir=runs/vqvae
    genjax sample runs/vqvae_prior --out digits.png

Runtime of this stage: about 5 minutes on 2 shared CPU cores (1,500 steps at ~5.5 steps/s
once compiled). Expected on the test split: all 256 codes used, code perplexity ~190, PSNR
~23.8 dB, reconstruction MSE ~0.0044 (pixels on [0, 1]); the plain codebook
(``--config.model.variant=plain --config.model.restarts=False``) uses ~45% of the codes
(benchmarks/RESULTS.md, "VQ-VAE codebook"). Reconstruction grids (inputs over
reconstructions) are written to runs/vqvae/samples/recon_step_*.png; ``genjax sample`` on this
folder refuses and names the prior stage.
"""

import ml_collections

from genjax.config import base_config


def get_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "vqvae"
    config.data.name = "mnist_subset"  # 28x28 -> a 7x7 code grid
    config.model = ml_collections.ConfigDict({
        "features": (32, 64),  # stride-2 stages (28 -> 14 -> 7)
        "code_dim": 16,  # D
        "num_codes": 256,  # K
        "num_res_blocks": 1,
        "res_hidden": 32,
        "variant": "ema",  # or "plain" (codebook loss, needs restarts=False)
        "beta": 0.25,  # commitment weight
        "ema_decay": 0.99,
        "ema_epsilon": 1e-5,  # Laplace smoothing of the cluster sizes
        "restarts": True,  # re-seed codes unused for restart_after steps (ema only)
        "restart_after": 100,
    })
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.steps = 1500
    config.train.batch_size = 64
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 500  # reconstruction grids
    config.train.eval_every = 500
    config.train.num_samples = 0  # no sample grids: the prior stage samples
    return config
