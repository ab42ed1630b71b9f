"""The shared conv encoder/decoder: shapes at 28 and 32, leading axes, and a clear size error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn.autoencoder import Decoder, Encoder, LatentDiscriminator, bottleneck_size


@pytest.mark.parametrize("size", [28, 32])
def test_encoder_and_decoder_shapes(size):
    x = jnp.zeros((3, size, size, 1))
    enc = Encoder(10, features=(4, 8), hidden=16)
    out = enc.apply(enc.init(jax.random.PRNGKey(0), x), x)
    assert out.shape == (3, 10) and out.dtype == jnp.float32
    dec = Decoder(image_size=size, channels=1, features=(8, 4), hidden=16)
    params = dec.init(jax.random.PRNGKey(1), jnp.zeros((1, 5)))
    assert dec.apply(params, jnp.zeros((3, 5))).shape == (3, size, size, 1)
    # extra leading axes (importance samples x batch) are flattened and restored
    z = jax.random.normal(jax.random.PRNGKey(2), (2, 3, 5))
    many = dec.apply(params, z)
    assert many.shape == (2, 3, size, size, 1)
    np.testing.assert_allclose(np.asarray(many[1]), np.asarray(dec.apply(params, z[1])),
                               rtol=1e-5, atol=1e-6)


def test_bottleneck_size_and_a_clear_error():
    assert bottleneck_size(28, 2) == 7 and bottleneck_size(32, 2) == 8
    with pytest.raises(ValueError, match="divisible by 2\\*\\*2 = 4"):
        bottleneck_size(30, 2)


def test_latent_discriminator_gives_one_logit_per_code():
    d = LatentDiscriminator(features=(8,))
    z = jnp.ones((4, 3))
    assert d.apply(d.init(jax.random.PRNGKey(0), z), z).shape == (4,)
