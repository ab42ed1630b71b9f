"""Classifier-free guidance helpers against NumPy."""

import jax
import jax.numpy as jnp
import numpy as np

from genjax.nn.guidance import drop_labels, guided


def test_guided_extrapolates_from_the_null_prediction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    t = rng.uniform(size=(5,)).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 0])
    table = rng.normal(size=(4, 3))  # class 3 is the null label
    calls = []

    def predict(x, t, lab):
        calls.append(x.shape[0])
        return x * t[:, None] + jnp.asarray(table, jnp.float32)[lab]

    out = np.asarray(guided(predict, x, t, labels, 3, 2.5), np.float64)
    cond = x * t[:, None] + table[labels]
    null = x * t[:, None] + table[3]
    np.testing.assert_allclose(out, null + 2.5 * (cond - null), rtol=1e-5, atol=1e-5)
    assert calls == [10]  # one batched call for both predictions


def test_drop_labels_replaces_at_the_given_rate_with_the_null_label():
    labels = jnp.arange(20000) % 7
    out = np.asarray(drop_labels(jax.random.PRNGKey(0), labels, 0.25, 7))
    dropped = out == 7
    assert abs(dropped.mean() - 0.25) < 0.01
    np.testing.assert_array_equal(out[~dropped], np.asarray(labels)[~dropped])
    assert np.array_equal(np.asarray(drop_labels(jax.random.PRNGKey(0), labels, 0.0, 7)),
                          np.asarray(labels))
