"""pmap helpers: one device's numbers, reproduced shard by shard."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from genjax.core.collectives import DATA_AXIS, axis_size, batch_random, data_axis, pmean
from genjax.core.state import apply_updates


def _traced_axis(fn):
    """What ``data_axis()`` said while ``fn`` traced."""
    seen = []

    def probe(x):
        seen.append(data_axis())
        return x

    fn(probe)
    return seen


def test_data_axis_is_bound_only_inside_a_map_over_the_data_axis():
    x = jnp.zeros(4)
    devices = jax.devices()[:4]
    assert data_axis() is None
    assert _traced_axis(lambda f: jax.jit(f)(x)) == [None]
    assert _traced_axis(lambda f: jax.pmap(f, axis_name=DATA_AXIS, devices=devices)(x)) == [
        DATA_AXIS]
    assert _traced_axis(lambda f: jax.pmap(f, axis_name="other", devices=devices)(x)) == [None]
    mesh = Mesh(np.array(devices), (DATA_AXIS,))
    assert _traced_axis(lambda f: jax.shard_map(f, mesh=mesh, in_specs=P(DATA_AXIS),
                                                out_specs=P(DATA_AXIS))(x)) == [DATA_AXIS]
    # parallel=sharded: jit over the mesh, the data axis is not bound in the trace
    sharded = jax.device_put(x, NamedSharding(mesh, P(DATA_AXIS)))
    assert _traced_axis(lambda f: jax.jit(f)(sharded)) == [None]


def test_axis_size_counts_the_devices_of_the_data_axis():
    assert axis_size() == 1
    sizes = jax.pmap(lambda x: x + axis_size(), axis_name=DATA_AXIS,
                     devices=jax.devices()[:4])(jnp.zeros(4))
    np.testing.assert_array_equal(np.asarray(sizes), np.full(4, 4.0))


def test_batch_random_under_pmap_gives_each_device_its_rows_of_the_global_draw():
    devices = 4
    key = jax.random.PRNGKey(3)
    single = np.asarray(jax.random.normal(key, (8, 3)))
    sharded = jax.pmap(lambda _: batch_random(jax.random.normal, key, (2, 3)),
                       axis_name=DATA_AXIS, devices=jax.devices()[:devices])(jnp.zeros(devices))
    np.testing.assert_array_equal(np.asarray(sharded).reshape(8, 3), single)
    np.testing.assert_array_equal(np.asarray(batch_random(jax.random.normal, key, (8, 3))),
                                  single)


def test_pmean_is_identity_without_the_axis_and_mean_over_devices_with_it():
    tree = {"a": jnp.arange(3.0)}
    assert pmean(tree) is tree
    out = jax.pmap(pmean, axis_name=DATA_AXIS, devices=jax.devices()[:4])(jnp.arange(4.0))
    np.testing.assert_allclose(np.asarray(out), np.full(4, 1.5))
    # another axis name is not the data axis: nothing is averaged
    other = jax.pmap(pmean, axis_name="other", devices=jax.devices()[:4])(jnp.arange(4.0))
    np.testing.assert_allclose(np.asarray(other), np.arange(4.0))


def test_apply_updates_under_pmap_averages_the_gradients_of_the_shards():
    params = jnp.array([1.0, -2.0])
    grads = jnp.array([[1.0, 0.0], [3.0, 2.0]])  # one gradient per device; mean (2, 1)
    tx = optax.sgd(0.5)
    new, _ = jax.pmap(lambda g: apply_updates(tx, g, tx.init(params), params),
                      axis_name=DATA_AXIS, devices=jax.devices()[:2])(grads)
    np.testing.assert_allclose(np.asarray(new), np.array([[0.0, -2.5]] * 2))
