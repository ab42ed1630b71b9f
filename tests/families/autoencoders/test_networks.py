"""The shared conv encoder/decoder: shapes at 28 and 32, leading axes, and a clear size error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.autoencoders.networks import (
    Decoder,
    Encoder,
    LatentDiscriminator,
    bottleneck_size,
)


@pytest.mark.parametrize("size", [28, 32])
def test_encoder_and_decoder_shapes(size):
    x = jnp.zeros((3, size, size, 1))
    enc = Encoder(10, features=(4, 8), hidden=16)
    out = jax.eval_shape(lambda x: enc.apply(enc.init(jax.random.PRNGKey(0), x), x), x)
    assert out.shape == (3, 10) and out.dtype == jnp.float32
    dec = Decoder(image_size=size, channels=1, features=(8, 4), hidden=16)
    z = jnp.zeros((2, 3, 5))  # extra leading axes (importance samples x batch) are kept
    out = jax.eval_shape(lambda z: dec.apply(dec.init(jax.random.PRNGKey(1), z[0]), z), z)
    assert out.shape == (2, 3, size, size, 1)


def test_decoder_treats_leading_axes_as_batch():
    dec = Decoder(image_size=8, channels=1, features=(4,), hidden=8)
    params = jax.jit(dec.init)(jax.random.PRNGKey(1), jnp.zeros((1, 5)))
    apply = jax.jit(dec.apply)
    z = jax.random.normal(jax.random.PRNGKey(2), (2, 3, 5))
    many = apply(params, z)
    np.testing.assert_allclose(np.asarray(many).reshape(6, 8, 8, 1),
                               np.asarray(apply(params, z.reshape(6, 5))), rtol=1e-5, atol=1e-6)


def test_bottleneck_size_and_a_clear_error():
    assert bottleneck_size(28, 2) == 7 and bottleneck_size(32, 2) == 8
    with pytest.raises(ValueError, match="divisible by 2\\*\\*2 = 4"):
        bottleneck_size(30, 2)


def test_latent_discriminator_gives_one_logit_per_code():
    d = LatentDiscriminator(features=(8,))
    z = jnp.ones((4, 3))
    assert jax.eval_shape(lambda z: d.apply(d.init(jax.random.PRNGKey(0), z), z), z).shape == (4,)
