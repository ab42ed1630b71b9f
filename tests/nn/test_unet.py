"""The DDPM UNet and the MLP denoiser: shapes, size, conditioning, dtypes, clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn.embeddings import timestep_embedding
from genjax.nn.mlp_denoiser import MLPDenoiser
from genjax.nn.unet import UNet

TINY = dict(ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(8,), dropout=0.1)
# One level (no downsampling) on 8x8 inputs: every block type at the smallest compile cost.
SMALLEST = dict(ch=4, ch_mult=(1,), num_res_blocks=1, attn_resolutions=(8,), dropout=0.1,
                norm_groups=2)


def _init(model, x, t, **kw):
    return model.init(jax.random.PRNGKey(0), x, t, **kw)


def test_the_cifar_configuration_has_the_ddpm_papers_35_7m_parameters():
    shapes = jax.eval_shape(lambda: _init(UNet(), jnp.zeros((1, 32, 32, 3)),
                                          jnp.zeros((1,), jnp.int32)))
    n = sum(x.size for x in jax.tree.leaves(shapes))
    assert round(n / 1e6, 1) == 35.7  # Ho et al. 2020, Appendix B


def test_timestep_embedding_is_cos_then_sin_of_geometric_frequencies():
    t = jnp.array([0, 3, 999])
    emb = np.asarray(timestep_embedding(t, 6), np.float64)
    f = 10_000.0 ** (-np.arange(3) / 3)
    ref = np.concatenate([np.cos(np.outer([0, 3, 999], f)), np.sin(np.outer([0, 3, 999], f))], 1)
    np.testing.assert_allclose(emb, ref, atol=2e-4)  # float32 arguments up to ~1000 rad


def test_tiny_unet_shapes_conditioning_and_dropout():
    model = UNet(**SMALLEST, num_classes=3, out_channels=2)
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 1))
    t = jnp.array([3, 500])
    variables = _init(model, x, t)
    # zero-initialised output layer: train it a little away from zero
    variables = jax.tree.map(lambda p: p + 0.05 * jnp.ones_like(p), variables)

    def outputs(v):
        drop = [model.apply(v, x, t, train=True, rngs={"dropout": jax.random.PRNGKey(i)})
                for i in (0, 1)]
        return (model.apply(v, x, t, jnp.array([3, 3])), model.apply(v, x, t),
                model.apply(v, x, t, jnp.array([0, 1])), *drop,
                bf16.apply(v, x, t))

    bf16 = UNet(**SMALLEST, num_classes=3, out_channels=2, dtype=jnp.bfloat16)
    null, none, labelled, drop_a, drop_b, bf = jax.jit(outputs)(variables)
    assert null.shape == (2, 8, 8, 2) and null.dtype == jnp.float32
    np.testing.assert_array_equal(none, null)  # None = the null label
    assert not np.allclose(labelled, null)
    assert not np.allclose(drop_a, drop_b)
    # bf16 compute stays close to float32 and returns float32
    assert bf.dtype == jnp.float32
    np.testing.assert_allclose(bf, null, atol=0.1 * float(jnp.abs(null).max()) + 0.05)


def test_unet_refuses_bad_shapes_with_the_fix():
    with pytest.raises(ValueError, match="divisible by 2"):
        _init(UNet(**TINY), jnp.zeros((1, 15, 15, 1)), jnp.zeros((1,), jnp.int32))
    with pytest.raises(ValueError, match="unconditional"):
        _init(UNet(**TINY), jnp.zeros((1, 16, 16, 1)), jnp.zeros((1,), jnp.int32),
              label=jnp.zeros((1,), jnp.int32))
    with pytest.raises(ValueError, match="one channel per group"):
        _init(UNet(**{**SMALLEST, "norm_groups": 4}), jnp.zeros((1, 8, 8, 1)),
              jnp.zeros((1,), jnp.int32))
    with pytest.raises(ValueError, match="multiple of norm_groups"):
        _init(UNet(**{**TINY, "ch": 12}, norm_groups=8), jnp.zeros((1, 16, 16, 1)),
              jnp.zeros((1,), jnp.int32))


def test_mlp_denoiser_shapes_and_labels():
    model = MLPDenoiser(features=16, num_layers=2)
    x, t = jnp.ones((5, 2)), jnp.arange(5)
    out = model.apply(_init(model, x, t), x, t)
    assert out.shape == (5, 2) and float(jnp.abs(out).max()) == 0.0  # zero-initialised output
    with pytest.raises(ValueError, match="points"):
        _init(model, jnp.ones((5, 2, 1)), t)
