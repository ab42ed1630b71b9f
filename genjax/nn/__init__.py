"""Neural-network modules (flax.linen), NHWC.

* :mod:`genjax.nn.conv`: :class:`ConvTranspose` and :class:`Conv`, drop-ins
  for the flax modules whose gradients (and transposed forward) are much
  faster on XLA-CPU; :func:`xla_cpu_compiler_options` for ``jax.jit``.
* :mod:`genjax.nn.dcgan`: the DCGAN :class:`Generator` and
  :class:`Discriminator`.
* :mod:`genjax.nn.init`: DCGAN initializers.
* :mod:`genjax.nn.mlp`: the 2D protocol's MLP generator and maxout discriminator.
* :mod:`genjax.nn.progressive`: progressively growing generator and discriminator.
* :mod:`genjax.nn.diffaugment`: DiffAugment (colour, translation, cutout) for D's inputs.
"""

from genjax.nn.conv import (
    Conv,
    ConvTranspose,
    conv,
    conv_transpose,
    resolve_padding,
    torch_padding,
    xla_cpu_compiler_options,
)
from genjax.nn.dcgan import Discriminator, Generator, default_features, num_stages
from genjax.nn.init import dcgan_conv_init, dcgan_scale_init

__all__ = [
    "Conv",
    "ConvTranspose",
    "Discriminator",
    "Generator",
    "conv",
    "conv_transpose",
    "dcgan_conv_init",
    "dcgan_scale_init",
    "default_features",
    "num_stages",
    "resolve_padding",
    "torch_padding",
    "xla_cpu_compiler_options",
]
