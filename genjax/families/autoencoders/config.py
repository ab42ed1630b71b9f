"""The keys the autoencoder configs (``vae``, ``dae``, ``aae``) share: the conv
encoder/decoder of ``genjax.families.autoencoders.networks`` on the embedded MNIST digits, Adam,
cadences."""

import ml_collections

from genjax.config import base_config


def autoencoder_config(family: str, latent_dim: int, enc_features: tuple[int, ...],
                       **model) -> ml_collections.ConfigDict:
    """A config of ``family`` whose decoder mirrors ``enc_features``; ``model`` adds keys."""
    config = base_config()
    config.family = family
    config.data.name = "mnist_subset"
    config.model = ml_collections.ConfigDict({
        "latent_dim": latent_dim,
        "enc_features": enc_features,  # Conv k4 s2: 28 -> 14 -> 7
        "dec_features": enc_features[::-1],  # ConvTranspose k4 s2: 7 -> 14 -> 28
        "hidden": 256,
        **model,
    })
    config.optim = ml_collections.ConfigDict({"lr": 1e-3, "b1": 0.9, "b2": 0.999})
    config.train.steps = 1000
    config.train.batch_size = 64
    config.train.log_every = 100
    config.train.checkpoint_every = 500
    config.train.sample_every = 500
    config.train.eval_every = 500
    return config


def vae_config(latent_dim: int, enc_features: tuple[int, ...], **model
                ) -> ml_collections.ConfigDict:
    """A ``vae`` config with every VAE option at its neutral default (``model`` overrides).

    ``model.architecture``: ``"conv"`` (the ``enc_features`` convs) or ``"mlp"`` (hidden widths
    ``model.mlp_features``, the decoder's reversed); ``model.train_k``: importance samples of
    the training bound (1: the ELBO); ``model.kl_warmup_steps``: linear KL-weight warm-up (0:
    none); ``model.shift_pixels``: random translations of training images (0: none);
    ``optim.schedule``: ``"constant"`` Adam or ``"cosine"`` (``optim.warmup_steps``,
    ``decay_steps`` (0: ``train.steps``), ``min_lr_ratio``, ``weight_decay``, ``grad_clip``).
    """
    options = {"likelihood": "bernoulli", "beta": 1.0, "gaussian_scale": 0.1,
               "architecture": "conv", "mlp_features": (400,), "train_k": 1,
               "kl_warmup_steps": 0, "shift_pixels": 0}
    config = autoencoder_config("vae", latent_dim, enc_features, **{**options, **model})
    config.optim.update({"schedule": "constant", "warmup_steps": 0, "decay_steps": 0,
                         "min_lr_ratio": 0.0, "weight_decay": 0.0, "grad_clip": 0.0})
    config.eval.iwae_k = 1000  # importance samples of test_nll_iwae_k
    config.eval.iwae_chunk = 8192  # decoder evaluations per chunk (memory bound)
    return config


def smallest_config(family: str, **model) -> ml_collections.ConfigDict:
    """The smallest config of an autoencoder family (the registry's contract test): narrow
    convs on scikit-learn's 8x8 digits."""
    return _shrunk(autoencoder_config(family, latent_dim=4, enc_features=(4, 8), **model))


def _shrunk(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``config`` on the 8x8 digits with a 16-unit dense layer and tiny batches."""
    config.model.hidden = 16
    config.data.name = "digits"
    config.train.update({"batch_size": 16, "num_samples": 4, "eval_every": 0})
    return config


def smallest_vae(runs=None) -> ml_collections.ConfigDict:
    """The ``vae`` family's smallest config (a cheap IWAE bound: k = 8)."""
    config = _shrunk(vae_config(latent_dim=4, enc_features=(4, 8)))
    config.eval.iwae_k, config.eval.iwae_chunk = 8, 256
    return config


def smallest_dae(runs=None) -> ml_collections.ConfigDict:
    """The ``dae`` family's smallest config (3-step sampling chains)."""
    return smallest_config("dae", loss="bce", noise_std=0.5, mask_prob=0.25, sample_steps=3)


def smallest_aae(runs=None) -> ml_collections.ConfigDict:
    """The ``aae`` family's smallest config (one narrow latent discriminator layer)."""
    config = smallest_config("aae", d_features=(16,), loss="bce")
    config.adv_optim = ml_collections.ConfigDict({"lr": 2e-4, "b1": 0.5, "b2": 0.999})
    return config
