"""Neural-network modules (flax.linen), NHWC.

* :mod:`genjax.nn.conv`: :class:`ConvTranspose` and :class:`Conv`, drop-ins
  for the flax modules whose gradients (and transposed forward) are much
  faster on XLA-CPU; :func:`xla_cpu_compiler_options` for ``jax.jit``.
* :mod:`genjax.nn.init`: DCGAN initializers.
* :mod:`genjax.nn.unet`, :mod:`genjax.nn.mlp_denoiser`: denoisers of the diffusion-era families.
* :mod:`genjax.nn.quantizer`: vector quantisation (straight-through, EMA codebooks).

Family-specific networks live in their family's folder (``genjax/families/<family>/``).
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
from genjax.nn.init import dcgan_conv_init, dcgan_scale_init

__all__ = [
    "Conv",
    "ConvTranspose",
    "conv",
    "conv_transpose",
    "dcgan_conv_init",
    "dcgan_scale_init",
    "resolve_padding",
    "torch_padding",
    "xla_cpu_compiler_options",
]
