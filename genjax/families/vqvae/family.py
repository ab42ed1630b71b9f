"""The ``vqvae`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.vqvae.build import build_prior, build_vqvae
from genjax.families.vqvae.config import smallest_prior_config, smallest_vqvae_config
from genjax.families.vqvae.objective import VQVAE
from genjax.families.vqvae.prior import VQVAEPrior

FAMILIES = (
    Family(name="vqvae", build=build_vqvae,
           summary="VQ-VAE: straight-through quantiser, plain or EMA codebook, dead-code "
                   "restarts (samples through its prior stage)",
           modalities=("image",), objectives=(VQVAE,), smallest=smallest_vqvae_config),
    Family(name="vqvae_prior", build=build_prior,
           summary="causal Transformer prior over a trained VQ-VAE run's code grids",
           modalities=("image",), objectives=(VQVAEPrior,), needs=("vqvae",),
           smallest=smallest_prior_config),
)
