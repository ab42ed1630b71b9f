"""The VQ-VAE family: a vector-quantised autoencoder and its causal Transformer prior stage."""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
