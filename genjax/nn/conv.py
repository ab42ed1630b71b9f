"""Convolutions whose gradients (and transposed forward) are fast on XLA-CPU.

``flax.linen.ConvTranspose`` computes ``lax.conv_transpose``: a stride-1
convolution of the input dilated by ``strides`` (``lhs_dilation``). JAX's
autodiff turns the kernel gradient of that op into a convolution with *both*
an lhs dilation and a large "kernel" (the output cotangent), a form XLA-CPU
runs through a slow generic loop: for the DCGAN layer 128->64 (8x8 -> 16x16,
batch 64) it costs ~350 ms against ~17 ms for the forward pass.

:func:`conv_transpose` computes the same value and attaches a custom VJP
that expresses both gradients as ordinary *strided* convolutions (the
convolution that this transposed convolution is the adjoint of):

* input gradient: ``conv(dy, flip(kernel), window_strides=strides)``;
* kernel gradient: ``conv(dy, x, rhs_dilation=strides)`` with the batch axis
  contracted, flipped back spatially: the form XLA-CPU already runs fast for
  the kernel gradient of a strided ``Conv``.

Its forward pass avoids multiplying the dilation zeros: when the kernel size
is a multiple of the stride (DCGAN's k4 s2) it runs ``stride**2`` "sub-pixel"
stride-1 convolutions, one per output phase, and interleaves them; a 1x1
input with full padding (DCGAN's first layer) is a single matmul.
:func:`conv` (module :class:`Conv`) is the strided convolution whose input
gradient, itself a transposed convolution, takes the same sub-pixel route.

All routes compute the same sums in another order: results agree with the
stock ops to float32 round-off (1e-12 in float64). ``benchmarks/
conv_transpose_grad.py`` prints the per-layer times. The sub-pixel pieces are
fastest with XLA's own convolutions rather than YNNPACK's, which jaxlib 0.10
uses by default on CPU: compile training steps with
``jax.jit(..., compiler_options=xla_cpu_compiler_options())``.

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
``transpose_kernel=True``, masks.
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

from genjax.core.xla import xla_cpu_compiler_options  # noqa: F401 - re-exported

Array = jax.Array
Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]

_DN = ("NHWC", "HWIO", "NHWC")
# Below this many output channels the s*s small sub-pixel convolutions lose to
# one lhs-dilated convolution on XLA-CPU (64 -> 1 channels: 4.2 ms vs 2.0 ms).
_SUBPIXEL_MIN_OUT = 8


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


def _transpose_out_size(n: int, k: int, s: int, lo: int, hi: int) -> int:
    return (n - 1) * s + 1 + lo + hi - k + 1


def _phases(k: int, s: int, lo: int, n_out: int) -> list[tuple[int, int, int]]:
    """Per output phase r (positions s*i + r): first tap a0, input offset d, count.

    ``y[s*i + r] = sum_t x[i + d + t] * kernel[a0 + s*t]`` for ``t < k // s``.
    """
    out = []
    for r in range(s):
        a0 = (lo - r) % s
        out.append((a0, (r + a0 - lo) // s, len(range(r, n_out, s))))
    return out


def _transpose_subpixel(x, kernel, strides, padding, precision):
    """Transposed conv as s*s stride-1 convolutions, one per output phase.

    The lhs-dilated convolution multiplies (s*s - 1)/(s*s) zeros; splitting the
    output into its stride phases ("sub-pixel" convolution) leaves s*s dense
    convolutions with (k/s, k/s) sub-kernels, interleaved afterwards.
    """
    n, h, w, _ = x.shape
    k_h, k_w, _, o = kernel.shape
    (s_h, s_w), ((lo_h, hi_h), (lo_w, hi_w)) = strides, padding
    q_h, q_w = k_h // s_h, k_w // s_w
    h_out = _transpose_out_size(h, k_h, s_h, lo_h, hi_h)
    w_out = _transpose_out_size(w, k_w, s_w, lo_w, hi_w)
    m_h, m_w = -(-h_out // s_h), -(-w_out // s_w)
    zero = jnp.zeros((), x.dtype)
    rows = []
    for a0, d, _ in _phases(k_h, s_h, lo_h, h_out):
        cols = []
        for b0, e, _ in _phases(k_w, s_w, lo_w, w_out):
            # Output i of this phase reads x[i + d : i + d + q]; lax.pad crops when negative.
            xp = lax.pad(x, zero, ((0, 0, 0), (-d, m_h + q_h - 1 - h + d, 0),
                                   (-e, m_w + q_w - 1 - w + e, 0), (0, 0, 0)))
            sub = kernel[a0::s_h][:q_h, b0::s_w][:, :q_w]
            cols.append(lax.conv_general_dilated(xp, sub, (1, 1), "VALID", dimension_numbers=_DN,
                                                 precision=precision))
        rows.append(jnp.stack(cols, axis=3))  # (n, m_h, m_w, s_w, o)
    y = jnp.stack(rows, axis=2)  # (n, m_h, s_h, m_w, s_w, o)
    return y.reshape(n, m_h * s_h, m_w * s_w, o)[:, :h_out, :w_out]


def _transpose_forward(x, kernel, strides, padding, precision):
    """Value of ``lax.conv_transpose`` (no kernel flip), by the fastest exact route."""
    n, h, w, c = x.shape
    k_h, k_w, _, o = kernel.shape
    (s_h, s_w), ((lo_h, hi_h), (lo_w, hi_w)) = strides, padding
    if (h, w) == (1, 1) and (lo_h, hi_h, lo_w, hi_w) == (k_h - 1,) * 2 + (k_w - 1,) * 2:
        # A 1x1 input with full padding ('VALID'): every tap lands on its own
        # output pixel, y[p, q] = x @ kernel[k-1-p, k-1-q]: one matmul.
        w_mat = jnp.flip(kernel, (0, 1)).transpose(2, 0, 1, 3).reshape(c, k_h * k_w * o)
        y = jnp.dot(x.reshape(n, c), w_mat, precision=precision)
        return y.reshape(n, k_h, k_w, o)
    if (s_h, s_w) != (1, 1) and k_h % s_h == 0 and k_w % s_w == 0 and o >= _SUBPIXEL_MIN_OUT:
        return _transpose_subpixel(x, kernel, strides, padding, precision)
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, lhs_dilation=strides,
                                    dimension_numbers=_DN, precision=precision)


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
    ``transpose_kernel=False``. The forward pass runs as ``stride**2``
    sub-pixel convolutions when the kernel size is a multiple of the stride
    (no multiplications by dilation zeros), as one matmul for a 1x1 input with
    full padding, and as the lhs-dilated convolution otherwise.

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
    return _transpose_forward(x, kernel, strides, padding, precision)


def _conv_transpose_fwd(x, kernel, strides, padding, precision):
    return _transpose_forward(x, kernel, strides, padding, precision), (x, kernel)


def _conv_transpose_bwd(strides, padding, precision, res, g):
    x, kernel = res
    adj_pad = _adjoint_padding(kernel.shape, padding)
    g = g.astype(x.dtype)
    # Input gradient: the strided convolution this op is the adjoint of.
    dx = lax.conv_general_dilated(
        g, jnp.flip(kernel, (0, 1)), strides, adj_pad,
        dimension_numbers=("NHWC", "HWOI", "NHWC"), precision=precision,
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


def _strided_forward(x, kernel, strides, padding, precision):
    return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_DN,
                                    precision=precision)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv(
    x: Array,
    kernel: Array,
    strides: tuple[int, int],
    padding: tuple[tuple[int, int], tuple[int, int]],
    precision: Any = None,
) -> Array:
    """2D strided convolution (NHWC, HWIO) whose input gradient is sub-pixel.

    Same value and kernel gradient as ``lax.conv_general_dilated(x, kernel,
    strides, padding)``; the input gradient (a transposed convolution) runs
    through :func:`conv_transpose`'s sub-pixel forward instead of XLA's
    lhs-dilated convolution.

    Args:
      x: input ``(N, H, W, in)``.
      kernel: ``(kh, kw, in, out)``.
      strides: ``(sh, sw)``.
      padding: explicit ``((lo, hi), (lo, hi))`` input padding (e.g. PyTorch's
        ``Conv2d(padding=p)`` is ``((p, p), (p, p))``).
      precision: ``lax.Precision`` for every convolution, or None.

    Returns:
      ``(N, (H + lo + hi - kh) // sh + 1, ..., out)``.
    """
    return _strided_forward(x, kernel, strides, padding, precision)


def _conv_fwd(x, kernel, strides, padding, precision):
    return _strided_forward(x, kernel, strides, padding, precision), (x, kernel)


def _conv_bwd(strides, padding, precision, res, g):
    x, kernel = res
    g = g.astype(x.dtype)
    # dx = the transposed convolution of g with the flipped, swapped kernel;
    # the high side gets the rows the forward floor division dropped.
    t_pad = []
    for n, k, s, (lo, hi) in zip(x.shape[1:3], kernel.shape[:2], strides, padding, strict=True):
        t_pad.append((k - 1 - lo, k - 1 - hi + (n + lo + hi - k) % s))
    dx = _transpose_forward(g, _flip_swap(kernel), strides, tuple(t_pad), precision)
    # dw: XLA's own transpose rule (a stride-dilated convolution), fast on CPU.
    _, vjp_kernel = jax.vjp(lambda k: _strided_forward(x, k, strides, padding, precision), kernel)
    (dw,) = vjp_kernel(g)
    return dx.astype(x.dtype), dw.astype(kernel.dtype)


conv.defvjp(_conv_fwd, _conv_bwd)


def _apply_conv2d(module: nn.Module, inputs: Array, op, padding_of) -> Array:
    """The shared body of :class:`Conv` and :class:`ConvTranspose`.

    Declares ``kernel`` ``(kh, kw, in, out)`` and optional ``bias`` on ``module``, flattens
    extra leading batch dimensions, promotes dtypes and applies
    ``op(x, kernel, strides, padding, precision)``.

    Args:
      module: the calling module (inside its compact ``__call__``).
      inputs: ``(..., H, W, C)``.
      op: :func:`conv` or :func:`conv_transpose`.
      padding_of: ``(x, kernel_size, strides) -> padding`` for ``op``.

    Returns:
      ``(..., H', W', features)``.
    """
    kernel_size = tuple(module.kernel_size)
    if len(kernel_size) != 2:
        raise ValueError(f"{type(module).__name__} is 2D; got kernel_size={module.kernel_size}")
    strides = tuple(module.strides) if module.strides is not None else (1, 1)
    batch_shape = inputs.shape[:-3]
    x = inputs.reshape((-1,) + inputs.shape[-3:])
    padding = padding_of(x, kernel_size, strides)
    kernel = module.param("kernel", module.kernel_init,
                          kernel_size + (x.shape[-1], module.features), module.param_dtype)
    bias = (module.param("bias", module.bias_init, (module.features,), module.param_dtype)
            if module.use_bias else None)
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=module.dtype)
    y = op(x, kernel, strides, padding, module.precision)
    if bias is not None:
        y = y + bias
    return y.reshape(batch_shape + y.shape[1:])


class _Conv2D(nn.Module):
    """The fields :class:`Conv` and :class:`ConvTranspose` share (see each for ``padding``)."""

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


class ConvTranspose(_Conv2D):
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

    @nn.compact
    def __call__(self, inputs: Array) -> Array:
        """Applies the transposed convolution.

        Args:
          inputs: ``(N, H, W, C)`` or unbatched ``(H, W, C)``; extra leading
            batch dimensions are flattened and restored.

        Returns:
          ``(..., H', W', features)`` with ``H' = (H-1)*s + 1 + lo + hi - k + 1``.
        """
        return _apply_conv2d(
            self, inputs, conv_transpose,
            lambda x, kernel_size, strides: resolve_padding(self.padding, kernel_size, strides))


class Conv(_Conv2D):
    """Drop-in for 2D ``flax.linen.Conv`` (NHWC) with a sub-pixel input gradient.

    Same parameters (``kernel`` ``(kh, kw, in, out)``, ``bias`` ``(out,)``) and
    values as ``flax.linen.Conv``; see :func:`conv` for the gradient. Useful
    for strided convolutions in networks trained through their inputs (a GAN
    discriminator back-propagating into the generator).

    Attributes:
      features: number of output channels.
      kernel_size: ``(kh, kw)``.
      strides: ``(sh, sw)``.
      padding: ``'SAME'``, ``'VALID'``, an int, or ``(low, high)`` pairs of
        input padding (PyTorch's ``Conv2d(padding=p)`` is ``p`` or ``((p, p), (p, p))``).
      use_bias: whether to add a bias.
      kernel_init: kernel initializer.
      bias_init: bias initializer.
      dtype: computation dtype (None: promote input and params).
      param_dtype: parameter dtype.
      precision: ``lax.Precision`` for the convolutions.
    """

    @nn.compact
    def __call__(self, inputs: Array) -> Array:
        """Applies the convolution.

        Args:
          inputs: ``(N, H, W, C)`` or unbatched ``(H, W, C)``; extra leading
            batch dimensions are flattened and restored.

        Returns:
          ``(..., H', W', features)``.
        """
        return _apply_conv2d(self, inputs, conv, self._input_padding)

    def _input_padding(self, x: Array, kernel_size: tuple[int, int],
                       strides: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        """Explicit ``(low, high)`` input padding pairs for ``lax`` convolutions."""
        if isinstance(self.padding, str):
            if self.padding.upper() not in ("SAME", "VALID"):
                raise ValueError(f"padding {self.padding!r} is not supported")
            return tuple(lax.padtype_to_pads(x.shape[1:3], kernel_size, strides,
                                             self.padding.upper()))
        if isinstance(self.padding, int):
            return ((self.padding, self.padding),) * 2
        return tuple((p, p) if isinstance(p, int) else (int(p[0]), int(p[1]))
                     for p in self.padding)
