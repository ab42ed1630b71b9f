"""The GAN family: DCGAN, conditional, progressive and 2D-protocol GANs with every loss.

``config.family = "gan"`` (``"dcgan"``, the former name of its DCGAN recipe, is migrated).
Objectives: :mod:`genjax.families.gan.objective`; networks: ``dcgan``, ``mlp``,
``progressive``; DiffAugment: ``diffaugment``; config schema: ``config``; build: ``build``.
"""

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
