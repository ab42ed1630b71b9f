"""The ``gan`` family's config schema: every key with its default (named configs change some).

``model.arch`` picks the networks (``dcgan``, ``mlp`` for the 2D protocol, ``progressive``);
``gan.*`` the adversarial loss, penalties, critic steps, EMA and DiffAugment; see
``genjax.families.gan.objective.GAN`` for their meaning.
"""

import ml_collections

from genjax.config import base_config


def gan_config() -> ml_collections.ConfigDict:
    config = base_config()
    config.family = "gan"
    config.data.name = "mnist_subset"
    config.data.image_size = 32  # pad 28 -> 32
    config.model = ml_collections.ConfigDict({
        "arch": "dcgan",  # dcgan | mlp | progressive
        "latent_dim": 100,
        "g_features": (256, 128, 64),  # dcgan: widest first; progressive: per level, 4x4 first
        "d_features": (64, 128, 256),  # dcgan: narrowest first; progressive: as g_features
        "d_norm": "batch",  # dcgan discriminator: batch | layer | none
        "spectral_norm": False,
        "conditional": False,  # label embedding in G, projection D (labelled data)
        "label_dim": 32,
        "pack": 1,  # PacGAN packing degree
        "g_hidden": (400, 400, 400, 400),  # mlp generator
        "d_hidden": (200, 200, 200),  # mlp maxout discriminator
        "maxout_pieces": 5,
        "stable_steps": 0,  # progressive growth schedule
        "fade_steps": 0,
    })
    config.gan = ml_collections.ConfigDict({
        "loss": "non_saturating",  # minimax | non_saturating | hinge | least_squares | wasserstein
        "gp_weight": 0.0,  # WGAN-GP lambda
        "r1_weight": 0.0,  # R1 gamma
        "label_smoothing": 0.0,  # one-sided: D's real target 1 - s (cross-entropy losses)
        "n_critic": 1,
        "ema_decay": 0.0,  # 0: no EMA of G
        "standing_stats": 0,  # sample with G's BatchNorm stats of this many fresh latents
        "standing_batch": 0,  # ... taken in batches of this size (0: one batch)
        "freeze_g_stats_at": 0,  # from this step G trains on frozen BatchNorm stats (0: never)
        "instance_noise": 0.0,  # std of noise on D's inputs at step 0, annealed linearly ...
        "instance_noise_steps": 0,  # ... to 0 at this step (0 with the noise off)
        "augment": "",  # DiffAugment, e.g. "color,translation,cutout"
    })
    # optional keys (absent: constant rate), e.g. gan_toy2d: "lr_schedule" ("constant" or
    # "cosine": warm-up, then decay over train.steps), "warmup_steps", "min_lr_ratio"
    config.optim = ml_collections.ConfigDict({
        "g_lr": 2e-4, "d_lr": 2e-4, "b1": 0.5, "b2": 0.999,
        "lr_schedule": "constant",  # or "cosine": warm-up, then decay over train.steps
        "warmup_steps": 0,  # cosine: linear warm-up from 0
        "min_lr_ratio": 0.0,  # cosine: final learning rate / peak
    })
    config.train.steps = 700
    config.train.batch_size = 64
    config.train.log_every = 25
    config.train.checkpoint_every = 350
    config.train.sample_every = 100
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): the 2D protocol's MLP
    networks, narrowed, on the ring mixture."""
    config = gan_config()
    config.data.name = "toy2d_ring"
    config.data.image_size = 0
    config.model.update({"arch": "mlp", "latent_dim": 2, "g_hidden": (16, 16),
                         "d_hidden": (16,), "maxout_pieces": 2})
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config
