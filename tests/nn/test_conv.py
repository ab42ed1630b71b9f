"""Tests for genjax.nn.conv: values, gradients and transforms of ConvTranspose."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from genjax.nn.conv import (
    Conv,
    ConvTranspose,
    conv,
    conv_transpose,
    resolve_padding,
    torch_padding,
    xla_cpu_compiler_options,
)

# (in_shape NHWC, out features, kernel, strides, padding spec).
CASES = [
    # DCGAN: PyTorch k4 s2 p1 (doubles), k4 s1 p0 on 1x1 (-> 4x4).
    ((2, 3, 3, 2), 3, (4, 4), (2, 2), torch_padding((4, 4), 1)),
    ((2, 1, 1, 5), 3, (4, 4), (1, 1), torch_padding((4, 4), 0)),
    ((1, 3, 2, 2), 2, (4, 4), (2, 2), "SAME"),
    ((1, 3, 2, 2), 2, (4, 4), (2, 2), "VALID"),
    # Non-square kernel/strides, odd sizes, asymmetric and output padding.
    ((2, 4, 3, 3), 2, (3, 2), (2, 1), "SAME"),
    ((1, 2, 5, 2), 3, (3, 3), (3, 2), ((2, 1), (0, 3))),
    ((1, 3, 3, 1), 2, (4, 4), (2, 2), torch_padding((4, 4), 1, output_padding=1)),
    # Sub-pixel forward (kernel a multiple of the stride) off the DCGAN path:
    # stride 3, mixed strides, asymmetric padding, odd output sizes, 8+ outputs.
    ((2, 3, 2, 3), 8, (6, 3), (3, 1), ((2, 4), (1, 0))),
    ((1, 4, 3, 2), 9, (4, 4), (2, 2), ((1, 2), (3, 0))),
    ((2, 2, 3, 4), 8, (4, 2), (2, 2), ((5, 0), (0, 1))),
    # Padding beyond k - 1 (the adjoint padding is negative).
    ((1, 3, 3, 2), 2, (1, 1), (2, 2), "SAME"),
    ((1, 2, 2, 1), 1, (2, 2), (1, 1), ((2, 2), (3, 1))),
]


def reference_conv_transpose(x, kernel, strides, padding):
    """Float64 scatter-add transposed convolution in lax terms (no flip).

    ``x[n, h, w, i] * kernel[a, b, i, o]`` lands on output position
    ``(s_h h + lo_h - a, s_w w + lo_w - b)``; the output has size
    ``(H - 1) s + 1 + lo + hi - k + 1``.
    """
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    n, h, w, _ = x.shape
    kh, kw, _, o = kernel.shape
    (sh, sw), ((lh, hh), (lw, hw)) = strides, padding
    ho, wo = (h - 1) * sh + 1 + lh + hh - kh + 1, (w - 1) * sw + 1 + lw + hw - kw + 1
    y = np.zeros((n, ho, wo, o))
    for r in range(h):
        for c in range(w):
            for a in range(kh):
                for b in range(kw):
                    p, q = sh * r + lh - a, sw * c + lw - b
                    if 0 <= p < ho and 0 <= q < wo:
                        y[:, p, q, :] += x[:, r, c, :] @ kernel[a, b]
    return y


def reference_torch_conv_transpose(x, weight, stride, padding):
    """Float64 PyTorch ``ConvTranspose2d`` definition; weight is (in, out, kh, kw)."""
    n, h, w, _ = x.shape
    _, o, kh, kw = weight.shape
    ho, wo = (h - 1) * stride - 2 * padding + kh, (w - 1) * stride - 2 * padding + kw
    y = np.zeros((n, ho, wo, o))
    for r in range(h):
        for c in range(w):
            for a in range(kh):
                for b in range(kw):
                    p, q = stride * r - padding + a, stride * c - padding + b
                    if 0 <= p < ho and 0 <= q < wo:
                        y[:, p, q, :] += x[:, r, c, :] @ weight[:, :, a, b]
    return y


def _data(shape, features, kernel_size, dtype=jnp.float32, seed=0):
    # NumPy draws: eager jax.random would compile a kernel per shape.
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=shape), dtype)
    kernel = jnp.asarray(rng.normal(size=tuple(kernel_size) + (shape[-1], features)), dtype)
    return x, kernel


@pytest.fixture
def x64():
    """Runs a test with 64-bit types enabled, restored afterwards."""
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("shape,features,kernel_size,strides,padding", CASES)
def test_forward_matches_numpy_reference_and_flax(shape, features, kernel_size, strides, padding):
    x, kernel = _data(shape, features, kernel_size)
    bias = jnp.asarray(np.random.default_rng(1).normal(size=features), jnp.float32)
    variables = {"params": {"kernel": kernel, "bias": bias}}
    module = ConvTranspose(features, kernel_size, strides, padding)
    stock = nn.ConvTranspose(features, kernel_size, strides, padding)
    # Same parameter names and shapes as the stock module (traced, not run).
    shapes = lambda m: jax.tree.map(jnp.shape, jax.eval_shape(m.init, jax.random.key(0), x))
    assert shapes(module) == shapes(stock) == jax.tree.map(jnp.shape, variables)
    y = jax.jit(module.apply)(variables, x)
    np.testing.assert_allclose(y, jax.jit(stock.apply)(variables, x), rtol=1e-5, atol=1e-5)

    pads = resolve_padding(padding, kernel_size, strides)
    params = variables["params"]
    ref = reference_conv_transpose(x, params["kernel"], strides, pads) + np.asarray(params["bias"])
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride,padding,size", [(2, 1, 3), (1, 0, 1), (2, 0, 2), (3, 1, 2)])
def test_torch_padding_matches_pytorch_definition(stride, padding, size):
    x = np.random.default_rng(0).normal(size=(2, size, size + 1, 3))
    weight = np.random.default_rng(1).normal(size=(3, 2, 4, 4))  # PyTorch (in, out, kh, kw)
    kernel = weight.transpose(2, 3, 0, 1)[::-1, ::-1]  # flax (kh, kw, in, out), flipped
    module = ConvTranspose(2, (4, 4), (stride, stride), torch_padding((4, 4), padding),
                           use_bias=False)
    y = jax.jit(module.apply)({"params": {"kernel": jnp.asarray(kernel, jnp.float32)}},
                              jnp.asarray(x, jnp.float32))
    ref = reference_torch_conv_transpose(x, weight, stride, padding)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def _grads(fn, x, kernel, strides, pads):
    def loss(x, kernel):
        y = fn(x, kernel, strides, pads)
        return jnp.sum(jnp.sin(y) * jnp.arange(y.size, dtype=y.dtype).reshape(y.shape) / y.size)

    return jax.jit(jax.grad(loss, argnums=(0, 1)))(x, kernel)


def _stock(x, kernel, strides, pads):
    return lax.conv_transpose(x, kernel, strides, pads)


@pytest.mark.parametrize("shape,features,kernel_size,strides,padding", CASES)
def test_gradients_match_stock_autodiff_float32(shape, features, kernel_size, strides, padding):
    x, kernel = _data(shape, features, kernel_size, seed=3)
    pads = resolve_padding(padding, kernel_size, strides)
    got = _grads(conv_transpose, x, kernel, strides, pads)
    want = _grads(_stock, x, kernel, strides, pads)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,features,kernel_size,strides,padding",
                         [CASES[0], CASES[1], CASES[5]])
def test_gradients_match_stock_autodiff_float64(x64, shape, features, kernel_size, strides,
                                                padding):
    x, kernel = _data(shape, features, kernel_size, dtype=jnp.float64, seed=4)
    pads = resolve_padding(padding, kernel_size, strides)
    got = _grads(conv_transpose, x, kernel, strides, pads)
    want = _grads(_stock, x, kernel, strides, pads)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == jnp.float64
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_x64_fixture_restores_flag():
    assert not jax.config.jax_enable_x64


def test_dcgan_layer_gradients_batch_one_and_module_params():
    # Batch 1, PyTorch k4 s2 p1 on a non-square input, through the flax module.
    x, kernel = _data((1, 4, 6, 8), 5, (4, 4), seed=7)
    variables = {"params": {"kernel": kernel, "bias": jnp.arange(5.0)}}
    mine, stock = (m(5, (4, 4), (2, 2), torch_padding((4, 4), 1))
                   for m in (ConvTranspose, nn.ConvTranspose))

    def loss(module):
        return lambda v, x: jnp.sum(module.apply(v, x) ** 2)

    got = jax.jit(jax.grad(loss(mine), argnums=(0, 1)))(variables, x)
    want = jax.jit(jax.grad(loss(stock), argnums=(0, 1)))(variables, x)
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5), got, want)


def test_vmap_and_per_example_gradients():
    strides, pads = (2, 2), torch_padding((4, 4), 1)
    x, kernel = _data((3, 2, 3, 3, 2), 4, (4, 4), seed=5)  # leading vmapped axis of 3
    kernels = jnp.stack([kernel, 2 * kernel, -kernel])

    f = lambda x, k: conv_transpose(x, k, strides, pads)
    got = jax.jit(jax.vmap(f))(x, kernels)
    want = jnp.stack([jax.jit(_stock, static_argnums=(2, 3))(x[i], kernels[i], strides, pads)
                      for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    loss = lambda fn: lambda x, k: jnp.sum(jnp.cos(fn(x, k, strides, pads)))
    got = jax.jit(jax.vmap(jax.grad(loss(conv_transpose), argnums=(0, 1))))(x, kernels)
    want = jax.jit(jax.vmap(jax.grad(loss(_stock), argnums=(0, 1))))(x, kernels)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)

    # vmap over inputs only (shared kernel), the in_axes=None case.
    per_example = lambda fn: jax.jit(jax.vmap(jax.grad(loss(fn), argnums=1), in_axes=(0, None)))
    got = per_example(conv_transpose)(x, kernel)
    want = per_example(_stock)(x, kernel)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_module_extra_batch_dims_and_unbatched():
    module = ConvTranspose(3, (4, 4), (2, 2), torch_padding((4, 4), 1))
    x, kernel = _data((2, 3, 4, 4, 2), 3, (4, 4), seed=8)
    v = {"params": {"kernel": kernel, "bias": jnp.ones(3)}}
    apply = jax.jit(module.apply)
    y = apply(v, x)
    assert y.shape == (2, 3, 8, 8, 3)
    np.testing.assert_allclose(y[1, 2], apply(v, x[1, 2]), rtol=1e-5, atol=1e-5)


def test_bfloat16_compute_dtype():
    x, kernel = _data((2, 4, 4, 8), 4, (4, 4), seed=9)
    module = ConvTranspose(4, (4, 4), (2, 2), torch_padding((4, 4), 1), dtype=jnp.bfloat16)
    shapes = jax.eval_shape(module.init, jax.random.key(1), x)
    assert shapes["params"]["kernel"].dtype == jnp.float32
    v = {"params": {"kernel": 0.1 * kernel, "bias": jnp.full((4,), 0.5)}}
    y = jax.jit(module.apply)(v, x)
    assert y.dtype == jnp.bfloat16
    y32 = jax.jit(module.clone(dtype=jnp.float32).apply)(v, x)
    np.testing.assert_allclose(y.astype(jnp.float32), y32, rtol=0.05, atol=0.05)

    loss = lambda m: lambda v: jnp.mean(m.apply(v, x).astype(jnp.float32) ** 2)
    g = jax.jit(jax.grad(loss(module)))(v)
    g32 = jax.jit(jax.grad(loss(module.clone(dtype=jnp.float32))))(v)
    assert g["params"]["kernel"].dtype == jnp.float32
    np.testing.assert_allclose(g["params"]["kernel"], g32["params"]["kernel"], rtol=0.05,
                               atol=0.05 * float(jnp.abs(g32["params"]["kernel"]).max()))
    # The strided Conv: bfloat16 compute, float32 parameter gradients.
    c = Conv(8, (4, 4), (2, 2), 1, dtype=jnp.bfloat16)
    vc = {"params": {"kernel": 0.1 * kernel.transpose(0, 1, 3, 2)[..., :8], "bias": jnp.zeros(8)}}
    y_conv = jax.jit(c.apply)(vc, y32)
    assert y_conv.dtype == jnp.bfloat16 and y_conv.shape == (2, 4, 4, 8)
    gc = jax.jit(jax.grad(lambda v: jnp.mean(c.apply(v, y32).astype(jnp.float32) ** 2)))(vc)
    assert gc["params"]["kernel"].dtype == jnp.float32
    # bfloat16 inputs with float32 params and no dtype: promoted to float32.
    y_promoted = jax.jit(module.clone(dtype=None).apply)(v, x.astype(jnp.bfloat16))
    assert y_promoted.dtype == jnp.float32


def test_second_order_reverse_over_reverse():
    x, kernel = _data((1, 2, 3, 2), 2, (4, 4), seed=6)
    strides, pads = (2, 2), torch_padding((4, 4), 1)

    def outer(fn):
        inner = jax.grad(lambda x, k: jnp.sum(jnp.sin(fn(x, k, strides, pads))), argnums=1)
        return jax.jit(jax.grad(lambda x: jnp.sum(inner(x, kernel) ** 2)))(x)

    np.testing.assert_allclose(outer(conv_transpose), outer(_stock), rtol=1e-4, atol=1e-4)
    with pytest.raises(TypeError, match="forward-mode"):
        jax.jvp(lambda x: conv_transpose(x, kernel, strides, pads), (x,), (x,))


def test_padding_helpers_and_errors():
    assert torch_padding((4, 4), 1) == ((2, 2), (2, 2))
    assert torch_padding((4, 3), (0, 1), output_padding=1) == ((3, 4), (1, 2))
    assert resolve_padding("SAME", (4, 4), (2, 2)) == ((2, 2), (2, 2))
    assert resolve_padding("valid", (4, 4), (1, 1)) == ((3, 3), (3, 3))
    assert resolve_padding(1, (3, 3), (1, 1)) == ((1, 1), (1, 1))
    assert resolve_padding((1, (0, 2)), (3, 3), (1, 1)) == ((1, 1), (0, 2))
    with pytest.raises(ValueError, match="CIRCULAR"):
        resolve_padding("CIRCULAR", (3, 3), (1, 1))
    with pytest.raises(ValueError, match="one entry per spatial dim"):
        resolve_padding(((1, 1),), (3, 3), (1, 1))
    with pytest.raises(ValueError, match="2D"):
        ConvTranspose(2, (3,)).init(jax.random.key(0), jnp.ones((1, 4, 2)))
    with pytest.raises(ValueError, match="2D"):
        Conv(2, (3,)).init(jax.random.key(0), jnp.ones((1, 4, 2)))
    with pytest.raises(ValueError, match="not supported"):
        Conv(2, (3, 3), padding="CIRCULAR").init(jax.random.key(0), jnp.ones((1, 4, 4, 2)))


CONV_CASES = [
    # (in_shape, features, kernel, strides, padding): DCGAN's k4 s2 p1 and k4 valid,
    # odd sizes where the strided output drops rows, SAME, asymmetric pads.
    ((2, 8, 8, 3), 8, (4, 4), (2, 2), ((1, 1), (1, 1))),
    ((2, 4, 4, 8), 1, (4, 4), (1, 1), "VALID"),
    ((1, 7, 6, 2), 8, (4, 4), (2, 2), ((1, 1), (1, 1))),
    ((2, 9, 5, 3), 8, (3, 2), (3, 2), "SAME"),
    ((1, 6, 7, 2), 9, (4, 2), (2, 2), ((2, 0), (0, 3))),
    ((1, 5, 5, 2), 3, (3, 3), (1, 1), 1),
    # 8+ input channels: the input gradient takes the sub-pixel route.
    ((1, 7, 6, 8), 3, (4, 4), (2, 2), ((1, 1), (1, 1))),
    ((1, 9, 7, 8), 4, (4, 2), (2, 2), ((2, 0), (0, 3))),
]


@pytest.mark.parametrize("shape,features,kernel_size,strides,padding", CONV_CASES)
def test_conv_matches_flax_values_and_gradients(shape, features, kernel_size, strides, padding):
    x, kernel = _data(shape, features, kernel_size, seed=11)
    variables = {"params": {"kernel": kernel, "bias": jnp.linspace(-1.0, 1.0, features)}}
    mine = Conv(features, kernel_size, strides, padding)
    stock = nn.Conv(features, kernel_size, strides, padding)
    shapes = lambda m: jax.tree.map(jnp.shape, jax.eval_shape(m.init, jax.random.key(0), x))
    assert shapes(mine) == shapes(stock) == jax.tree.map(jnp.shape, variables)

    def loss(module):
        def f(v, x):
            y = module.apply(v, x)
            return jnp.sum(jnp.sin(y) * jnp.arange(y.size).reshape(y.shape) / y.size), y
        return jax.jit(jax.value_and_grad(f, argnums=(0, 1), has_aux=True))

    (_, y), got = loss(mine)(variables, x)
    (_, y_ref), want = loss(stock)(variables, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4), got, want)


def test_conv_vmap_and_float64(x64):
    pads = ((1, 1), (1, 1))
    x, kernel = _data((3, 2, 6, 6, 2), 8, (4, 4), dtype=jnp.float64, seed=12)
    loss = lambda fn: lambda x, k: jnp.sum(jnp.cos(fn(x, k, (2, 2), pads)))
    stock = lambda x, k, s, p: lax.conv_general_dilated(x, k, s, p,
                                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    got = jax.jit(jax.vmap(jax.grad(loss(conv), argnums=(0, 1)), in_axes=(0, None)))(x, kernel)
    want = jax.jit(jax.vmap(jax.grad(loss(stock), argnums=(0, 1)), in_axes=(0, None)))(x, kernel)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == jnp.float64
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_xla_cpu_compiler_options_compile_and_agree():
    options = xla_cpu_compiler_options()
    assert xla_cpu_compiler_options("gpu") == {}
    assert options == {} or "xla_cpu_experimental_ynn_fusion_type" in options
    x, kernel = _data((2, 4, 4, 16), 8, (4, 4), seed=13)
    pads = torch_padding((4, 4), 1)
    f = lambda x, k: jax.grad(lambda x, k: jnp.sum(conv_transpose(x, k, (2, 2), pads) ** 2),
                              argnums=(0, 1))(x, k)
    got = jax.jit(f, compiler_options=options)(x, kernel)
    want = jax.jit(f)(x, kernel)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-4)
