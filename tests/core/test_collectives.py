"""pmap helpers: one device's numbers, reproduced shard by shard."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.core.collectives import batch_random, pmean
from genjax.core.state import apply_updates


def test_batch_random_under_pmap_gives_each_device_its_rows_of_the_global_draw():
    devices = 4
    key = jax.random.PRNGKey(3)
    single = np.asarray(jax.random.normal(key, (8, 3)))
    sharded = jax.pmap(lambda _: batch_random(jax.random.normal, key, (2, 3), "d"),
                       axis_name="d", devices=jax.devices()[:devices])(jnp.zeros(devices))
    np.testing.assert_array_equal(np.asarray(sharded).reshape(8, 3), single)
    np.testing.assert_array_equal(np.asarray(batch_random(jax.random.normal, key, (8, 3))),
                                  single)


def test_pmean_is_identity_without_axis_and_mean_over_devices_with_one():
    tree = {"a": jnp.arange(3.0)}
    assert pmean(tree, None) is tree
    out = jax.pmap(lambda x: pmean(x, "d"), axis_name="d",
                   devices=jax.devices()[:4])(jnp.arange(4.0))
    np.testing.assert_allclose(np.asarray(out), np.full(4, 1.5))


def test_apply_updates_under_pmap_averages_the_gradients_of_the_shards():
    params = jnp.array([1.0, -2.0])
    grads = jnp.array([[1.0, 0.0], [3.0, 2.0]])  # one gradient per device; mean (2, 1)
    tx = optax.sgd(0.5)
    new, _ = jax.pmap(lambda g: apply_updates(tx, g, tx.init(params), params, axis_name="d"),
                      axis_name="d", devices=jax.devices()[:2])(grads)
    np.testing.assert_allclose(np.asarray(new), np.array([[0.0, -2.5]] * 2))
