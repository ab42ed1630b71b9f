"""The ``fast_style`` family: feed-forward style transfer (Johnson et al. 2016).

A transformer network is trained with the perceptual loss of ``genjax style`` (VGG-19
content features and style Gram matrices, total variation) to stylise any picture in one
forward pass; see :mod:`genjax.families.fast_style.objective`.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
