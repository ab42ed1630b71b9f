"""Neural-network modules (flax.linen), NHWC.

* :mod:`genjax.nn.conv`: :class:`ConvTranspose`, a drop-in for
  ``flax.linen.ConvTranspose`` whose gradients run ~15x faster on XLA-CPU.
* :mod:`genjax.nn.dcgan`: the DCGAN :class:`Generator` and
  :class:`Discriminator`.
* :mod:`genjax.nn.init`: DCGAN initializers.
"""

from genjax.nn.conv import ConvTranspose, conv_transpose, resolve_padding, torch_padding
from genjax.nn.dcgan import Discriminator, Generator, default_features, num_stages
from genjax.nn.init import dcgan_conv_init, dcgan_scale_init

__all__ = [
    "ConvTranspose",
    "Discriminator",
    "Generator",
    "conv_transpose",
    "dcgan_conv_init",
    "dcgan_scale_init",
    "default_features",
    "num_stages",
    "resolve_padding",
    "torch_padding",
]
