"""The ``pix2pix`` family's config schema: every key with its default (named configs change
some).

``data.pairing`` (``edges`` | ``inpaint``) and ``data.mask_size`` choose the source images
the data layer adds to each batch (``genjax.data.pairing``); ``model.*`` the networks
(``genjax.families.pix2pix.networks``); ``pix2pix.*`` the loss
(``genjax.families.pix2pix.objective.Pix2Pix``); ``optim.*`` Adam for both networks (the
paper: 2e-4, b1 = 0.5).
"""

import ml_collections

from genjax.config import base_config


def pix2pix_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "pix2pix"
    config.data.name = "mnist_subset"
    config.data.image_size = 32  # pad 28 -> 32 (the U-Net halves it len(g_features) times)
    config.data.pairing = "edges"  # edges | inpaint
    config.data.mask_size = 12  # inpaint: side of the square hole, pixels of the padded image
    config.model = ml_collections.ConfigDict({
        "g_features": (64, 128, 256, 256),  # U-Net encoder widths, outermost first
        "d_features": (64, 128),  # PatchGAN widths (the last one stride 1)
        "dropout": 0.5,  # innermost decoder blocks, training only
        "dropout_blocks": 3,
    })
    config.pix2pix = ml_collections.ConfigDict({
        "loss": "non_saturating",  # any of genjax.losses.adversarial.LOSSES
        "l1_weight": 100.0,
        "d_scale": 0.5,  # the paper halves D's objective
    })
    config.optim = ml_collections.ConfigDict({"g_lr": 2e-4, "d_lr": 2e-4, "b1": 0.5,
                                              "b2": 0.999})
    config.train.steps = 1000
    config.train.batch_size = 32
    config.train.log_every = 50
    config.train.checkpoint_every = 500
    config.train.sample_every = 250
    config.train.eval_every = 0
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): narrow networks on
    edge maps of mnist_subset."""
    config = pix2pix_config()
    config.model.update({"g_features": (4, 8), "d_features": (4,), "dropout_blocks": 1})
    config.train.update({"batch_size": 8, "num_samples": 8})
    return config
