"""Tests for genjax.families.gan.dcgan: shapes, parameter counts, BatchNorm, input checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.gan.dcgan import Discriminator, Generator, default_features, num_stages

LATENT = 100
K = 16  # 4x4 kernels


def _count(tree) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _generator_params(latent, features, channels):
    """Closed form: convs without bias before BN (scale + offset), biased last conv."""
    n = latent * features[0] * K + 2 * features[0]
    for fin, fout in zip(features[:-1], features[1:], strict=True):
        n += fin * fout * K + 2 * fout
    return n + features[-1] * channels * K + channels


def _discriminator_params(channels, features):
    n, fin = 0, channels
    for f in features:
        n += fin * f * K + 2 * f
        fin = f
    return n + fin * 1 * K + 1


@pytest.fixture(scope="module")
def gan():
    """A 32x32x1 generator and discriminator with initialized variables (batch 4)."""
    g, d = Generator(), Discriminator(channels=1)
    z = jnp.asarray(np.random.default_rng(0).normal(size=(4, LATENT)), jnp.float32)
    # RBG keys: XLA-CPU compiles threefry initializers of this size slowly (seconds).
    init = lambda m, seed, x: jax.jit(m.init, static_argnames="train")(
        jax.random.key(seed, impl="rbg"), x, train=False)
    return g, d, init(g, 1, z), init(d, 2, jnp.zeros((4, 32, 32, 1))), z


def test_shapes_and_generator_range(gan):
    g, d, vg, vd, z = gan
    apply = jax.jit(lambda v, z: g.apply(v, z, train=True, mutable=["batch_stats"])[0])
    x = apply(vg, z)
    assert x.shape == (4, 32, 32, 1) and x.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(x))) <= 1.0 and float(jnp.std(x)) > 0
    # A large output bias saturates tanh at (not beyond) +-1.
    for shift in (20.0, -20.0):
        last = dict(vg["params"]["ConvTranspose_3"])
        last["bias"] = last["bias"] + shift
        params = {**vg["params"], "ConvTranspose_3": last}
        sat = apply({**vg, "params": params}, z)
        assert float(jnp.max(jnp.abs(sat))) <= 1.0
        assert float(jnp.min(jnp.abs(sat))) > 0.999
    logits = jax.jit(lambda v, x: d.apply(v, x, train=False))(vd, x)
    assert logits.shape == (4,) and logits.dtype == jnp.float32


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_by_channels(channels):
    z = jnp.zeros((5, LATENT))
    out = jax.eval_shape(
        lambda k: Generator(channels=channels).init_with_output(k, z, train=False)[0],
        jax.random.key(0))
    assert out.shape == (5, 32, 32, channels)
    logits = jax.eval_shape(
        lambda k: Discriminator(channels=channels).init_with_output(k, jnp.zeros(out.shape),
                                                                    train=False)[0],
        jax.random.key(0))
    assert logits.shape == (5,)


def test_image_size_64_adds_a_stage():
    assert default_features(64) == (512, 256, 128, 64)
    z = jnp.zeros((2, LATENT))
    out, v = jax.eval_shape(
        lambda k: Generator(image_size=64, channels=3).init_with_output(k, z, train=False),
        jax.random.key(0))
    assert out.shape == (2, 64, 64, 3)
    assert _count(v["params"]) == _generator_params(LATENT, (512, 256, 128, 64), 3)
    logits, vd = jax.eval_shape(
        lambda k: Discriminator(image_size=64).init_with_output(k, jnp.zeros(out.shape),
                                                                train=False),
        jax.random.key(0))
    assert logits.shape == (2,)
    assert _count(vd["params"]) == _discriminator_params(3, (64, 128, 256, 512))


@pytest.mark.parametrize("channels", [1, 3])
def test_parameter_counts_closed_form(channels):
    vg = jax.eval_shape(lambda k: Generator(channels=channels).init(
        k, jnp.zeros((2, LATENT)), train=False), jax.random.key(0))
    vd = jax.eval_shape(lambda k: Discriminator().init(
        k, jnp.zeros((2, 32, 32, channels)), train=False), jax.random.key(0))
    # By hand for the defaults (256, 128, 64) / (64, 128, 256):
    g_expected = (100 * 256 * 16 + 2 * 256) + (256 * 128 * 16 + 2 * 128) \
        + (128 * 64 * 16 + 2 * 64) + (64 * channels * 16 + channels)
    d_expected = (channels * 64 * 16 + 2 * 64) + (64 * 128 * 16 + 2 * 128) \
        + (128 * 256 * 16 + 2 * 256) + (256 * 16 + 1)
    assert _count(vg["params"]) == g_expected == _generator_params(100, (256, 128, 64), channels)
    assert _count(vd["params"]) == d_expected == _discriminator_params(channels, (64, 128, 256))
    # Running mean and variance per BN channel.
    assert _count(vg["batch_stats"]) == 2 * (256 + 128 + 64)
    assert _count(vd["batch_stats"]) == 2 * (64 + 128 + 256)


def test_dcgan_initialization(gan):
    _, _, vg, vd, _ = gan
    for v in (vg, vd):
        flat = jax.tree_util.tree_flatten_with_path(v["params"])[0]
        for path, leaf in flat:
            name = jax.tree_util.keystr(path)
            if "kernel" in name and leaf.size > 1000:
                assert abs(float(jnp.std(leaf)) - 0.02) < 0.002, name
                assert abs(float(jnp.mean(leaf))) < 0.002, name
            elif "scale" in name:
                assert abs(float(jnp.mean(leaf)) - 1.0) < 0.01, name
                assert 0.01 < float(jnp.std(leaf)) < 0.03, name
            elif "bias" in name:
                assert float(jnp.max(jnp.abs(leaf))) == 0.0, name
    stats = jax.tree.leaves(vd["batch_stats"]) + jax.tree.leaves(vg["batch_stats"])
    assert all(s.dtype == jnp.float32 for s in stats)


def test_batch_norm_train_updates_stats_and_eval_uses_them(gan):
    _, d, _, vd, _ = gan
    x = jnp.asarray(np.random.default_rng(3).uniform(-0.5, 1.5, (4, 32, 32, 1)), jnp.float32)

    train = jax.jit(lambda v, x: d.apply(v, x, train=True, mutable=["batch_stats"]))
    logits, updates = train(vd, x)
    first = updates["batch_stats"]["BatchNorm_0"]
    assert float(jnp.max(jnp.abs(first["mean"]))) > 0
    assert not np.allclose(first["var"], 1.0)
    # Train mode normalizes with the batch, so the stored statistics don't matter.
    scrambled = {**vd, "batch_stats": jax.tree.map(lambda s: s + 3.0, vd["batch_stats"])}
    np.testing.assert_allclose(train(scrambled, x)[0], logits, rtol=1e-5, atol=1e-5)

    evaluate = jax.jit(lambda v, x: d.apply(v, x, train=False))
    out = evaluate(vd, x)
    # Eval mode uses the running statistics (changing them changes the output) ...
    assert not np.allclose(evaluate(scrambled, x), out)
    # ... and is per-example: independent of the rest of the batch.
    np.testing.assert_allclose(evaluate(vd, x[:1]), out[:1], rtol=1e-5, atol=1e-5)
    # Eval mode mutates nothing.
    _, none = d.apply(vd, x, train=False, mutable=["batch_stats"])
    jax.tree.map(np.testing.assert_array_equal, none["batch_stats"], vd["batch_stats"])


def test_batch_norm_momentum_matches_pytorch_definition(gan):
    g, _, vg, _, z = gan
    _, updates = jax.jit(lambda v, z: g.apply(v, z, train=True, mutable=["batch_stats"]))(vg, z)
    # First BN (after the 1x1 -> 4x4 ConvTranspose, no bias): batch mean of its input.
    h = jax.lax.conv_transpose(z.reshape(4, 1, 1, LATENT),
                               vg["params"]["ConvTranspose_0"]["kernel"], (1, 1),
                               ((3, 3), (3, 3)))
    mean = jnp.mean(h, axis=(0, 1, 2))
    np.testing.assert_allclose(updates["batch_stats"]["BatchNorm_0"]["mean"], 0.1 * mean,
                               rtol=1e-4, atol=1e-6)


def test_bfloat16_compute_keeps_float32_params_and_stats():
    g = Generator(dtype=jnp.bfloat16)
    d = Discriminator(dtype=jnp.bfloat16)
    z = jnp.zeros((2, LATENT))
    (x, vg) = jax.eval_shape(lambda k: g.init_with_output(k, z, train=False), jax.random.key(0))
    assert x.dtype == jnp.bfloat16
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(vg))
    (logits, vd) = jax.eval_shape(
        lambda k: d.init_with_output(k, jnp.zeros(x.shape, x.dtype), train=False),
        jax.random.key(0))
    assert logits.dtype == jnp.float32
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(vd))


def test_clear_errors_for_wrong_shapes():
    d = Discriminator(channels=1)
    init = lambda x: jax.eval_shape(lambda k: d.init(k, x, train=False), jax.random.key(0))
    with pytest.raises(ValueError, match=r"\(batch, 32, 32, 1\).*pad.*32x32.*jnp.pad"):
        init(jnp.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match="NCHW"):
        init(jnp.zeros((2, 1, 32, 32)))
    with pytest.raises(ValueError, match="channels=3"):
        init(jnp.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match=r"expects images of shape"):
        init(jnp.zeros((32, 32, 1)))
    with pytest.raises(ValueError, match="4 \\* 2\\*\\*k"):
        num_stages(48)
    with pytest.raises(ValueError, match="needs 4 feature stages"):
        jax.eval_shape(lambda k: Generator(image_size=64, features=(256, 128, 64)).init(
            k, jnp.zeros((2, LATENT)), train=False), jax.random.key(0))
    with pytest.raises(ValueError, match="latent_dim"):
        jax.eval_shape(lambda k: Generator().init(k, jnp.zeros((2, 1, 1, LATENT)),
                                                  train=False), jax.random.key(0))
