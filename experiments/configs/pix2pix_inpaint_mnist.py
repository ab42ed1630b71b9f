"""pix2pix filling a 12x12 hole in the 5,000 embedded MNIST digits (inpainting, 32x32, CPU run).

    genjax train pix2pix_inpaint_mnist --workdir runs/pix2pix_inpaint
    genjax eval runs/pix2pix_inpaint

Runtime: not measured yet (the evidence run was cut short this session); no trained run
exists, so the results below are what the run reports, not numbers measured here.
Expected output: test L1 / PSNR of the translations and the domain FID of the 1,000
translated test digits against the real ones, next to the train-vs-test floor.
"""

import ml_collections

from genjax.families.pix2pix.config import pix2pix_config


def get_config() -> ml_collections.ConfigDict:
    """A narrow U-Net (16-32-64-64, 32 -> 2 pixels) and PatchGAN (16-32: 16x16 patches),
    the paper's loss (non-saturating + 100 L1) and Adam(2e-4, 0.5), 1,500 steps of batch 32
    on ``data.pairing='inpaint'``."""
    config = pix2pix_config()
    config.data.pairing = "inpaint"
    config.data.mask_size = 12
    config.model.g_features = (16, 32, 64, 64)
    config.model.d_features = (16, 32)
    config.train.steps = 1500
    config.train.batch_size = 32
    config.train.checkpoint_every = 500
    config.train.sample_every = 250
    return config
