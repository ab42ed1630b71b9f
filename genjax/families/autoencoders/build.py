"""From ``vae`` / ``dae`` / ``aae`` configs to their objectives (one conv encoder/decoder)."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam, adamw_cosine, image_size

ARCHITECTURES = ("conv", "mlp")
SCHEDULES = ("constant", "cosine")


def _modules(config: ml_collections.ConfigDict, spec: DatasetSpec, encoder_outputs: int):
    """The conv encoder/decoder of ``config.model``."""
    from genjax.families.autoencoders.networks import Decoder, Encoder

    m = config.model
    encoder = Encoder(out_features=encoder_outputs, features=tuple(m.enc_features),
                      hidden=m.hidden)
    decoder = Decoder(image_size=image_size(config, spec), channels=spec.shape[-1],
                      features=tuple(m.dec_features), hidden=m.hidden)
    return encoder, decoder


def _vae_modules(config: ml_collections.ConfigDict, spec: DatasetSpec):
    """``model.architecture``: the conv pair, or ``"mlp"`` with hidden widths
    ``model.mlp_features`` (the decoder's reversed)."""
    from genjax.families.autoencoders.networks import MLPDecoder, MLPEncoder

    m = config.model
    architecture = m.get("architecture", "conv")
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"model.architecture={architecture!r} is not one of "
                          f"{list(ARCHITECTURES)}")
    if architecture == "conv":
        return _modules(config, spec, 2 * m.latent_dim)
    features = tuple(m.mlp_features)
    return (MLPEncoder(out_features=2 * m.latent_dim, features=features),
            MLPDecoder(image_size=image_size(config, spec), channels=spec.shape[-1],
                       features=features[::-1]))


def vae_optimizer(config: ml_collections.ConfigDict):
    """``optim.schedule``: ``"constant"`` Adam, or ``"cosine"``: warmup + cosine decay
    (``genjax.families._build.adamw_cosine``; ``optim.weight_decay`` 0 is Adam)."""
    schedule = config.optim.get("schedule", "constant")
    if schedule not in SCHEDULES:
        raise ConfigError(f"optim.schedule={schedule!r} is not one of {list(SCHEDULES)}")
    if schedule == "constant":
        return adam(config.optim)
    return adamw_cosine(config.optim, config.train.steps)


def build_vae(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A VAE (conv or MLP; Bernoulli or Gaussian likelihood, beta weight, IWAE training and
    test NLL, KL warm-up, shift augmentation)."""
    from genjax.families.autoencoders.vae import VAE

    m = config.model
    encoder, decoder = _vae_modules(config, spec)
    return VAE(
        encoder=encoder, decoder=decoder, latent_dim=m.latent_dim,
        optimizer=vae_optimizer(config),
        likelihood=m.likelihood, beta=m.beta, gaussian_scale=m.gaussian_scale or None,
        iwae_k=config.eval.iwae_k, iwae_chunk=config.eval.iwae_chunk,
        train_k=m.get("train_k", 1), kl_warmup_steps=m.get("kl_warmup_steps", 0),
        shift_pixels=m.get("shift_pixels", 0), data_key=context.modality.batch_key,
    )


def build_dae(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A convolutional denoising autoencoder (Gaussian noise and/or masking corruption)."""
    from genjax.families.autoencoders.dae import DAE

    m = config.model
    encoder, decoder = _modules(config, spec, m.latent_dim)
    return DAE(
        encoder=encoder, decoder=decoder, latent_dim=m.latent_dim, optimizer=adam(config.optim),
        loss=m.loss, noise_std=m.noise_std, mask_prob=m.mask_prob, sample_steps=m.sample_steps,
        data_key=context.modality.batch_key,
    )


def build_aae(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """An adversarial autoencoder: a latent discriminator against N(0, I)."""
    from genjax.families.autoencoders.aae import AAE
    from genjax.families.autoencoders.networks import LatentDiscriminator

    m = config.model
    encoder, decoder = _modules(config, spec, m.latent_dim)
    return AAE(
        encoder=encoder, decoder=decoder,
        discriminator=LatentDiscriminator(features=tuple(m.d_features)),
        latent_dim=m.latent_dim, ae_optimizer=adam(config.optim),
        d_optimizer=adam(config.adv_optim), g_optimizer=adam(config.adv_optim), loss=m.loss,
        data_key=context.modality.batch_key,
    )
