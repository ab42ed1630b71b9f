"""The VQ-VAE families' smallest configs (named recipes: ``vqvae_mnist``,
``vqvae_prior_mnist``)."""

import ml_collections

from genjax.config import base_config


def smallest_vqvae_config(runs=None) -> ml_collections.ConfigDict:
    """The registry's contract test config: a narrow EMA VQ-VAE on 8x8 digits (2x2 codes)."""
    config = base_config()
    config.family = "vqvae"
    config.data.name = "digits"
    config.model = ml_collections.ConfigDict({
        "features": (8, 8), "code_dim": 4, "num_codes": 16, "num_res_blocks": 1,
        "res_hidden": 8, "variant": "ema", "beta": 0.25, "ema_decay": 0.99,
        "ema_epsilon": 1e-5, "restarts": True, "restart_after": 100})
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.update({"batch_size": 16, "num_samples": 0})
    return config


def smallest_prior_config(runs) -> ml_collections.ConfigDict:
    """The registry's contract test config: a one-block prior over ``runs["vqvae"]``."""
    config = base_config()
    config.family = "vqvae_prior"
    config.data.name = "digits"
    config.model = ml_collections.ConfigDict({
        "vqvae_dir": str(runs["vqvae"]), "width": 16, "depth": 1, "heads": 2, "mlp_ratio": 2})
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.99})
    config.train.update({"batch_size": 16, "num_samples": 4})
    return config
