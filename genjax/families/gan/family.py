"""The ``gan`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.gan.build import build, migrate_dcgan
from genjax.families.gan.config import gan_config, smallest_config
from genjax.families.gan.objective import GAN, ConditionalGAN, ProgressiveGAN

FAMILIES = (Family(
    name="gan", build=build, aliases=("dcgan",), migrate=migrate_dcgan,
    summary="GANs: DCGAN / MLP / progressive networks, every adversarial loss, GP, R1, "
            "spectral norm, EMA, DiffAugment, PacGAN, class-conditional",
    modalities=("image", "points"), precisions=("fp32", "bf16"),
    objectives=(GAN, ConditionalGAN, ProgressiveGAN), smallest=smallest_config,
    defaults=gan_config),)
