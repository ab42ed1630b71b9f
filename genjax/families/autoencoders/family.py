"""The ``autoencoders`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.autoencoders.aae import AAE
from genjax.families.autoencoders.build import build_aae, build_dae, build_vae
from genjax.families.autoencoders.config import smallest_aae, smallest_dae, smallest_vae
from genjax.families.autoencoders.dae import DAE
from genjax.families.autoencoders.vae import VAE

FAMILIES = (
    Family(name="vae", build=build_vae,
           summary="conv VAE: Bernoulli or Gaussian likelihood, beta, IWAE test bound",
           modalities=("image",), objectives=(VAE,), smallest=smallest_vae),
    Family(name="dae", build=build_dae,
           summary="denoising autoencoder: noise + masking, Markov-chain sampling",
           modalities=("image",), objectives=(DAE,), smallest=smallest_dae),
    Family(name="aae", build=build_aae,
           summary="adversarial autoencoder: a latent discriminator against N(0, I)",
           modalities=("image",), objectives=(AAE,), smallest=smallest_aae),
)
