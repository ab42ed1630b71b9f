"""The GAN family: DCGAN, conditional, progressive and 2D-protocol GANs with every loss.

``config.family = "gan"`` (``"dcgan"``, the former name of its DCGAN recipe, is migrated).
Objectives: :mod:`genjax.families.gan.objective`; networks: ``dcgan``, ``mlp``,
``progressive``; DiffAugment: ``diffaugment``; config schema: ``config``; build: ``build``.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
