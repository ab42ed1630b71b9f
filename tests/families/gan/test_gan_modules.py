"""GAN building blocks: spectral norm against an SVD, DiffAugment, the 2D and growing nets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.gan import diffaugment as da
from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator
from genjax.families.gan.progressive import (
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    downsample,
    fade_images,
    upsample,
)


def test_spectral_norm_estimate_converges_to_the_largest_singular_value():
    """The u vectors carried in batch_stats make sigma converge to numpy's SVD, per layer."""
    d = MaxoutDiscriminator(hidden=(6, 5), pieces=3, spectral_norm=True)
    x = jnp.ones((4, 3))
    variables = d.init(jax.random.PRNGKey(0), x, train=False)
    params, stats = variables["params"], variables["batch_stats"]

    @jax.jit
    def step(stats):
        _, new = d.apply({"params": params, "batch_stats": stats}, x, train=True,
                         mutable=["batch_stats"])
        return new["batch_stats"]

    for _ in range(60):
        stats = step(stats)
    for layer in ("maxout0", "maxout1", "logit"):
        kernel = np.asarray(params[layer]["kernel"], np.float64)
        sigma = np.linalg.svd(kernel, compute_uv=False)[0]
        np.testing.assert_allclose(stats[f"sn_{layer}"][f"{layer}/kernel/sigma"], sigma,
                                   rtol=1e-4, err_msg=layer)
    # eval mode reads u and never writes it
    out_state = d.apply({"params": params, "batch_stats": stats}, x, train=False)
    assert out_state.shape == (4,)


def test_spectrally_normalised_layer_has_unit_norm():
    """The kernel a spectrally normalised D uses is kernel / sigma_max (to 1e-4)."""
    d = MaxoutDiscriminator(hidden=(4,), pieces=2, spectral_norm=True)
    x = jax.random.normal(jax.random.PRNGKey(2), (5, 3))
    variables = d.init(jax.random.PRNGKey(0), x, train=False)
    stats = variables["batch_stats"]
    for _ in range(60):
        _, new = d.apply({**variables, "batch_stats": stats}, x, train=True,
                         mutable=["batch_stats"])
        stats = new["batch_stats"]
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])
    w0 = p["maxout0"]["kernel"] / np.linalg.svd(p["maxout0"]["kernel"], compute_uv=False)[0]
    w1 = p["logit"]["kernel"] / np.linalg.svd(p["logit"]["kernel"], compute_uv=False)[0]
    h = np.asarray(x, np.float64) @ w0 + p["maxout0"]["bias"]
    h = h.reshape(5, 4, 2).max(-1)
    expected = (h @ w1 + p["logit"]["bias"])[:, 0]
    got = d.apply({**variables, "batch_stats": stats}, x, train=False)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_diffaugment_keeps_shape_and_dtype_and_passes_gradients(dtype):
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 8, 8, 2), minval=-1, maxval=1).astype(dtype)
    policy = ("color", "translation", "cutout")
    y = da.diff_augment(x, jax.random.PRNGKey(1), policy)
    assert y.shape == x.shape and y.dtype == x.dtype
    g = jax.grad(lambda x: jnp.sum(da.diff_augment(x, jax.random.PRNGKey(1), policy)
                                   .astype(jnp.float32) ** 2))(x.astype(jnp.float32))
    assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_translation_moves_pixels_and_cutout_zeroes_a_square():
    x = jnp.arange(2 * 8 * 8, dtype=jnp.float32).reshape(2, 8, 8, 1) + 1.0
    y = np.asarray(da.translation(x, jax.random.PRNGKey(3)))
    for i in range(2):  # every kept value comes from the same image; the rest is zero fill
        kept = y[i][y[i] != 0]
        assert set(kept.tolist()) <= set(np.asarray(x[i]).ravel().tolist())
    # the input gradient of a translation is a 0/1 selection mask
    g = jax.grad(lambda x: jnp.sum(da.translation(x, jax.random.PRNGKey(3))))(x)
    assert set(np.unique(g).tolist()) <= {0.0, 1.0}
    ones = jnp.ones((16, 8, 8, 1))
    cut = np.asarray(da.cutout(ones, jax.random.PRNGKey(4)))
    zeros = (cut == 0).sum(axis=(1, 2, 3))
    assert zeros.max() == 16 and zeros.min() >= 4  # a 4x4 square, clipped at the borders
    with pytest.raises(ValueError, match="translation"):
        da.diff_augment(ones, jax.random.PRNGKey(0), ("translate",))


def test_2d_protocol_networks():
    g, d = MLPGenerator(), MaxoutDiscriminator()
    z = jnp.ones((5, 2))
    gv = g.init(jax.random.PRNGKey(0), z, train=False)
    assert [gv["params"][f"Dense_{i}"]["kernel"].shape for i in range(5)] == [
        (2, 400), (400, 400), (400, 400), (400, 400), (400, 2)]
    assert g.apply(gv, z, train=False).shape == (5, 2)
    dv = d.init(jax.random.PRNGKey(0), jnp.ones((5, 4)), train=False)  # packed m=2
    assert [dv["params"][k]["kernel"].shape for k in ("maxout0", "maxout1", "maxout2", "logit")
            ] == [(4, 1000), (200, 1000), (200, 1000), (200, 1)]


def test_progressive_networks_every_level_keeps_shapes_and_parameters():
    g, d = ProgressiveGenerator(features=(4, 4)), ProgressiveDiscriminator(features=(4, 4))
    z, x = jnp.ones((2, 6)), jnp.zeros((2, 8, 8, 1))
    gv = g.init(jax.random.PRNGKey(0), z, train=False)
    dv = d.init(jax.random.PRNGKey(1), x, train=False)
    assert {f"to_rgb{i}" for i in range(2)} <= set(gv["params"])
    assert {f"from_rgb{i}" for i in range(2)} <= set(dv["params"])
    for level in range(2):
        assert g.apply(gv, z, train=True, level=level, alpha=0.5).shape == (2, 8, 8, 1)
        assert d.apply(dv, x, train=True, level=level, alpha=0.5).shape == (2,)
    # alpha = 0 at level 1 is level 0's image (the new block has no say yet)
    np.testing.assert_allclose(g.apply(gv, z, train=True, level=1, alpha=0.0),
                               g.apply(gv, z, train=True, level=0), atol=1e-6)


def test_fade_images_blends_resolutions():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype(np.float32)
    lo = x.reshape(2, 2, 4, 2, 4, 1).mean((2, 4)).repeat(4, 1).repeat(4, 2)  # 2x2 level 0
    mid = x.reshape(2, 4, 2, 4, 2, 1).mean((2, 4)).repeat(2, 1).repeat(2, 2)  # 4x4 level 1
    np.testing.assert_allclose(fade_images(x, 1, 0.25, 3), lo + 0.25 * (mid - lo), atol=1e-6)
    np.testing.assert_allclose(fade_images(x, 2, 1.0, 3), x, atol=1e-6)
    np.testing.assert_allclose(downsample(upsample(x, 2), 2), x)
