"""The autoencoder families: VAE, denoising AE and adversarial AE on one conv encoder/decoder."""

from genjax.core.registry import Family
from genjax.families.autoencoders.aae import AAE
from genjax.families.autoencoders.build import build_aae, build_dae, build_vae
from genjax.families.autoencoders.config import smallest_config
from genjax.families.autoencoders.dae import DAE
from genjax.families.autoencoders.vae import VAE


def _smallest_vae(runs=None):
    config = smallest_config("vae", likelihood="bernoulli", beta=1.0, gaussian_scale=0.1)
    config.eval.iwae_k, config.eval.iwae_chunk = 8, 256
    return config


def _smallest_dae(runs=None):
    return smallest_config("dae", loss="bce", noise_std=0.5, mask_prob=0.25, sample_steps=3)


def _smallest_aae(runs=None):
    import ml_collections

    config = smallest_config("aae", d_features=(16,), loss="bce")
    config.adv_optim = ml_collections.ConfigDict({"lr": 2e-4, "b1": 0.5, "b2": 0.999})
    return config


FAMILIES = (
    Family(name="vae", build=build_vae,
           summary="conv VAE: Bernoulli or Gaussian likelihood, beta, IWAE test bound",
           modalities=("image",), objectives=(VAE,), smallest=_smallest_vae),
    Family(name="dae", build=build_dae,
           summary="denoising autoencoder: noise + masking, Markov-chain sampling",
           modalities=("image",), objectives=(DAE,), smallest=_smallest_dae),
    Family(name="aae", build=build_aae,
           summary="adversarial autoencoder: a latent discriminator against N(0, I)",
           modalities=("image",), objectives=(AAE,), smallest=_smallest_aae),
)
