"""The pix2pix family: paired image-to-image translation (Isola et al., 2017).

``config.family = "pix2pix"``: a U-Net generator with skip connections translates the batch's
``source`` images (``data.pairing``: edge maps or masked digits, built in the data layer) into
its images; a PatchGAN discriminator judges (source, image) pairs; the generator minimises the
conditional GAN loss plus ``l1_weight`` times the L1 distance to the target. Networks:
``networks``; objective: ``objective``; config schema: ``config``; build: ``build``.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
