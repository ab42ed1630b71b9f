"""The autoencoder families: VAE, denoising AE and adversarial AE on one conv encoder/decoder."""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
