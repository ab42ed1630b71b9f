"""The ``pix2pix`` package's registration (``FAMILIES``) and re-exports, imported on first
use by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.pix2pix.build import build
from genjax.families.pix2pix.config import pix2pix_config, smallest_config
from genjax.families.pix2pix.objective import Pix2Pix

FAMILIES = (Family(
    name="pix2pix", build=build,
    summary="pix2pix: U-Net generator, PatchGAN discriminator, conditional GAN + L1 on "
            "paired images (data.pairing: edges | inpaint)",
    modalities=("image",), precisions=("fp32",), objectives=(Pix2Pix,),
    smallest=smallest_config, defaults=pix2pix_config),)
