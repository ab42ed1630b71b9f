"""From ``vae`` / ``dae`` / ``aae`` configs to their objectives (one conv encoder/decoder)."""

from __future__ import annotations

import ml_collections

from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam, image_size


def _modules(config: ml_collections.ConfigDict, spec: DatasetSpec, encoder_outputs: int):
    """The conv encoder/decoder of ``config.model``."""
    from genjax.families.autoencoders.networks import Decoder, Encoder

    m = config.model
    encoder = Encoder(out_features=encoder_outputs, features=tuple(m.enc_features),
                      hidden=m.hidden)
    decoder = Decoder(image_size=image_size(config, spec), channels=spec.shape[-1],
                      features=tuple(m.dec_features), hidden=m.hidden)
    return encoder, decoder


def build_vae(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A convolutional VAE (Bernoulli or Gaussian likelihood, beta weight, IWAE test NLL)."""
    from genjax.families.autoencoders.vae import VAE

    m = config.model
    encoder, decoder = _modules(config, spec, 2 * m.latent_dim)
    return VAE(
        encoder=encoder, decoder=decoder, latent_dim=m.latent_dim, optimizer=adam(config.optim),
        likelihood=m.likelihood, beta=m.beta, gaussian_scale=m.gaussian_scale or None,
        iwae_k=config.eval.iwae_k, iwae_chunk=config.eval.iwae_chunk,
        data_key=context.modality.batch_key,
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
