"""make_train_step: per-step keys, step counter, K steps per call."""

import jax
import numpy as np

from genjax.core.step import make_train_step, step_key
from tests.helpers import ring_points, tiny_gan, tree_equal


def test_step_counts_and_uses_fold_in_key():
    gan = tiny_gan()
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch).replace(step=jax.numpy.int32(5))
    base = jax.random.PRNGKey(7)
    step = make_train_step(gan, donate=False)
    stepped, _ = step(state, batch, base)
    assert int(stepped.step) == 6
    # the same computation by hand, with the documented key fold_in(base, 5)
    expected, _ = jax.jit(gan.train_step)(state, batch, jax.random.fold_in(base, 5))
    assert tree_equal(stepped.params, expected.params)
    # a different step number draws different noise
    other, _ = step(state.replace(step=jax.numpy.int32(6)), batch, base)
    assert not tree_equal(other.params, stepped.params)
    assert step_key(base, 3).shape == base.shape


def test_k_steps_per_call_equal_k_single_calls():
    gan = tiny_gan()
    pts = ring_points(96)
    batches = [{"point": pts[i * 32:(i + 1) * 32]} for i in range(3)]
    state = gan.init(jax.random.PRNGKey(0), batches[0])
    base = jax.random.PRNGKey(1)
    one = make_train_step(gan, donate=False)
    s = state
    for b in batches:
        s, _ = one(s, b, base)
    three = make_train_step(gan, steps_per_call=3, donate=False)
    stacked = {"point": np.stack([b["point"] for b in batches])}
    t, metrics = three(state, stacked, base)
    assert int(t.step) == 3 and metrics["d_loss"].shape == (3,)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 s.params, t.params)
