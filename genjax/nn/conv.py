"""Transposed convolution whose gradients are fast on XLA-CPU.

``flax.linen.ConvTranspose`` computes ``lax.conv_transpose``: a stride-1
convolution of the input dilated by ``strides`` (``lhs_dilation``). JAX's
autodiff turns the kernel gradient of that op into a convolution with *both*
an lhs dilation and a large "kernel" (the output cotangent), a form XLA-CPU
runs through a slow generic loop: for the DCGAN layer 128->64 (8x8 -> 16x16,
batch 64) it costs ~400 ms against ~20 ms for the forward pass.

:func:`conv_transpose` computes the same forward pass and attaches a custom
VJP that expresses both gradients as ordinary *strided* convolutions (the
convolution that this transposed convolution is the adjoint of):

* input gradient: ``conv(dy, flip(kernel)^T, window_strides=strides)``;
* kernel gradient: ``conv(dy, x, rhs_dilation=strides)`` with the batch axis
  contracted, flipped back spatially. This is the same form XLA-CPU already
  runs fast for the weight gradient of a strided ``Conv``.

Both are exact (same sums, different order): results agree with autodiff of
the stock op to float32 round-off. ``benchmarks/conv_transpose_grad.py``
measures the gain per layer.

Padding convention (the same as ``lax.conv_transpose`` / flax): explicit
``(low, high)`` pairs pad the *dilated input*. PyTorch's
``ConvTranspose2d(kernel_size=k, stride=s, padding=p, output_padding=op)``
is ``padding=((k-1-p, k-1-p+op), ...)``: use :func:`torch_padding`.
The kernel layout is flax's ``(kh, kw, in, out)`` without spatial flipping
(``transpose_kernel=False``); a PyTorch weight ``W`` of shape
``(in, out, kh, kw)`` maps to ``W.transpose(2, 3, 0, 1)[::-1, ::-1]``.

Transforms: ``jit``, ``grad``, ``vjp`` and ``vmap`` (custom_vjp's batching
rule) compose. Second order is not a goal: reverse-over-reverse and
forward-over-reverse work (the backward pass is plain convolutions, which
JAX differentiates with its stock rules, so second-order terms do not get
the speed-up), but forward mode through the layer itself (``jax.jvp``,
``jax.jacfwd`` of the forward pass) raises, as for any ``custom_vjp``.
Not supported: kernel dilation, feature groups, ``'CIRCULAR'`` padding,
``transpose_kernel=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array
Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]

_DN = ("NHWC", "HWIO", "NHWC")


def torch_padding(
    kernel_size: Sequence[int], padding: int | Sequence[int], output_padding: int = 0
) -> tuple[tuple[int, int], ...]:
    """Converts PyTorch ``ConvTranspose2d`` padding to explicit lax pairs.

    ``ConvTranspose2d(k, stride=s, padding=p)`` pads the dilated input by
    ``k - 1 - p`` on each side (plus ``output_padding`` at the high end), so
    that its output has size ``(n - 1) * s - 2 p + k (+ output_padding)``.

    Args:
      kernel_size: spatial kernel size per dimension, e.g. ``(4, 4)``.
      padding: PyTorch ``padding`` (one int for all dimensions or one per dim).
      output_padding: PyTorch ``output_padding`` (added to the high side).

    Returns:
      A tuple of ``(low, high)`` pairs for :class:`ConvTranspose`'s ``padding``.
    """
    ks = tuple(kernel_size)
    ps = (padding,) * len(ks) if isinstance(padding, int) else tuple(padding)
    if len(ps) != len(ks):
        raise ValueError(f"padding {padding} does not match kernel_size {kernel_size}")
    return tuple((k - 1 - p, k - 1 - p + output_padding) for k, p in zip(ks, ps, strict=True))


def resolve_padding(
    padding: Padding, kernel_size: Sequence[int], strides: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """Resolves a flax/lax ``conv_transpose`` padding spec to explicit pairs.

    Args:
      padding: ``'SAME'`` (output = input * stride), ``'VALID'`` (output =
        input * stride + max(k - stride, 0)), an int ``p`` (``(p, p)`` in every
        dimension), or a sequence of ints / ``(low, high)`` pairs, all in
        ``lax.conv_transpose`` terms (padding of the dilated input).
      kernel_size: spatial kernel size per dimension.
      strides: stride per dimension.

    Returns:
      A tuple of ``(low, high)`` integer pairs, one per spatial dimension.
    """
    n = len(kernel_size)
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in ("SAME", "VALID"):
            raise ValueError(
                f"padding {padding!r} is not supported; use 'SAME', 'VALID' or (low, high) pairs"
            )
        out = []
        for k, s in zip(kernel_size, strides, strict=True):
            if mode == "SAME":
                pad_len = k + s - 2
                pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
            else:
                pad_len = k + s - 2 + max(k - s, 0)
                pad_a = k - 1
            out.append((pad_a, pad_len - pad_a))
        return tuple(out)
    if isinstance(padding, int):
        return ((padding, padding),) * n
    pads = tuple((p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in padding)
    if len(pads) != n:
        raise ValueError(f"padding {padding} needs one entry per spatial dim ({n})")
    return pads


def _flip_swap(kernel: Array) -> Array:
    """Flips the spatial axes and swaps in/out features of an HWIO kernel."""
    return jnp.swapaxes(jnp.flip(kernel, (0, 1)), 2, 3)


def _forward(x, kernel, strides, padding, precision):
    return lax.conv_general_dilated(
        x, kernel, (1, 1), padding, lhs_dilation=strides, dimension_numbers=_DN,
        precision=precision,
    )


def _adjoint_padding(kernel_shape, padding):
    """Padding of the strided convolution that is the adjoint of the forward op."""
    return tuple(
        (k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip(kernel_shape[:2], padding, strict=True)
    )


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv_transpose(
    x: Array,
    kernel: Array,
    strides: tuple[int, int],
    padding: tuple[tuple[int, int], tuple[int, int]],
    precision: Any = None,
) -> Array:
    """2D transposed convolution (NHWC, HWIO) with fast strided-conv gradients.

    Same value as ``lax.conv_transpose(x, kernel, strides, padding)`` with
    ``transpose_kernel=False``.

    Args:
      x: input of shape ``(N, H, W, in)``.
      kernel: kernel of shape ``(kh, kw, in, out)``.
      strides: ``(sh, sw)`` upsampling strides.
      padding: explicit ``((lo, hi), (lo, hi))`` padding of the dilated input
        (see :func:`resolve_padding`, :func:`torch_padding`).
      precision: ``lax.Precision`` passed to every convolution (forward and
        backward), or None for the backend default.

    Returns:
      Output of shape ``(N, (H-1)*sh + 1 + lo + hi - kh + 1, ..., out)``.
    """
    return _forward(x, kernel, strides, padding, precision)


def _conv_transpose_fwd(x, kernel, strides, padding, precision):
    return _forward(x, kernel, strides, padding, precision), (x, kernel)


def _conv_transpose_bwd(strides, padding, precision, res, g):
    x, kernel = res
    adj_pad = _adjoint_padding(kernel.shape, padding)
    g = g.astype(x.dtype)
    # Input gradient: the strided convolution this op is the adjoint of.
    dx = lax.conv_general_dilated(
        g, _flip_swap(kernel), strides, adj_pad, dimension_numbers=_DN, precision=precision
    )
    # Kernel gradient: contract over the batch (lhs "feature" axis of g) with
    # x as a kernel dilated by the strides; the result comes out flipped.
    #   dw[a, b, i, o] = sum_{n,h,w} x[n,h,w,i] g[n, s h + lo - a, s w + lo - b, o]
    dw_flipped = lax.conv_general_dilated(
        g, x, (1, 1), adj_pad, rhs_dilation=strides,
        dimension_numbers=("CHWN", "IHWO", "HWCN"), precision=precision,
    )
    dw = jnp.flip(dw_flipped, (0, 1))
    return dx.astype(x.dtype), dw.astype(kernel.dtype)


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class ConvTranspose(nn.Module):
    """Drop-in for ``flax.linen.ConvTranspose`` (2D, NHWC) with fast gradients.

    Same parameters (``kernel`` ``(kh, kw, in, out)``, ``bias`` ``(out,)``),
    same forward value as the flax module with ``transpose_kernel=False`` and
    no kernel dilation; the gradients go through :func:`conv_transpose`'s
    custom VJP (no forward-mode autodiff, see the module docstring).

    Attributes:
      features: number of output channels.
      kernel_size: ``(kh, kw)``.
      strides: ``(sh, sw)`` upsampling factors.
      padding: ``'SAME'``, ``'VALID'``, an int, or ``(low, high)`` pairs in
        ``lax.conv_transpose`` terms; PyTorch's ``padding=p`` is
        ``torch_padding(kernel_size, p)``, i.e. ``(k-1-p, k-1-p)``.
      use_bias: whether to add a bias.
      kernel_init: kernel initializer.
      bias_init: bias initializer.
      dtype: computation dtype (None: promote input and params).
      param_dtype: parameter dtype.
      precision: ``lax.Precision`` for the convolutions.
    """

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    padding: Padding = "SAME"
    use_bias: bool = True
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()
    dtype: Any = None
    param_dtype: Any = jnp.float32
    precision: Any = None

    @nn.compact
    def __call__(self, inputs: Array) -> Array:
        """Applies the transposed convolution.

        Args:
          inputs: ``(N, H, W, C)`` or unbatched ``(H, W, C)``; extra leading
            batch dimensions are flattened and restored.

        Returns:
          ``(..., H', W', features)`` with ``H' = (H-1)*s + 1 + lo + hi - k + 1``.
        """
        kernel_size = tuple(self.kernel_size)
        if len(kernel_size) != 2:
            raise ValueError(f"ConvTranspose is 2D; got kernel_size={self.kernel_size}")
        strides = tuple(self.strides) if self.strides is not None else (1, 1)
        padding = resolve_padding(self.padding, kernel_size, strides)
        batch_shape = inputs.shape[:-3]
        x = inputs.reshape((-1,) + inputs.shape[-3:])

        kernel = self.param(
            "kernel", self.kernel_init, kernel_size + (x.shape[-1], self.features),
            self.param_dtype,
        )
        bias = (
            self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias
            else None
        )
        x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
        y = conv_transpose(x, kernel, strides, padding, self.precision)
        if bias is not None:
            y = y + bias
        return y.reshape(batch_shape + y.shape[1:])
