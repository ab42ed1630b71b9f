"""pix2pix translating Sobel edge maps into the 5,000 embedded MNIST digits (32x32, CPU run).

    genjax train pix2pix_edges_mnist --workdir runs/pix2pix_edges
    genjax eval runs/pix2pix_edges

Runtime: 59 s on 2 idle CPU cores (25-31 steps/s). Measured (benchmarks/RESULTS.md): test L1
0.0215 (the source itself: 0.111), PSNR 22.5 dB (source: 11.7), domain FID 5.3 of the 1,000
translated test digits (real-vs-real floor 25.1); grid: docs/pix2pix_edges_mnist.png.
"""

import ml_collections

from genjax.families.pix2pix.config import pix2pix_config


def get_config() -> ml_collections.ConfigDict:
    """A narrow U-Net (16-32-64-64, 32 -> 2 pixels) and PatchGAN (16-32: 16x16 patches),
    the paper's loss (non-saturating + 100 L1) and Adam(2e-4, 0.5), 1,500 steps of batch 32
    on ``data.pairing='edges'``."""
    config = pix2pix_config()
    config.data.pairing = "edges"
    config.model.g_features = (16, 32, 64, 64)
    config.model.d_features = (16, 32)
    config.train.steps = 1500
    config.train.batch_size = 32
    config.train.checkpoint_every = 500
    config.train.sample_every = 250
    return config
