"""Vector quantiser against NumPy float64 references and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.core.collectives import DATA_AXIS
from genjax.nn import quantizer as vq


def test_nearest_codes_match_brute_force_argmin():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 5, 4)).astype(np.float32)
    codebook = rng.normal(size=(7, 4)).astype(np.float32)
    dist = ((z.astype(np.float64)[..., None, :] - codebook.astype(np.float64)) ** 2).sum(-1)
    got = np.asarray(vq.nearest_codes(jnp.asarray(z), jnp.asarray(codebook)))
    np.testing.assert_array_equal(got, dist.argmin(-1))
    np.testing.assert_allclose(np.asarray(vq.lookup(jnp.asarray(codebook), got)),
                               codebook[dist.argmin(-1)])


def test_straight_through_gradient_is_the_identity_to_the_encoder_output():
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.normal(size=(6, 3)), jnp.float32)
    codebook = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)

    def through(z):
        return vq.straight_through(z, vq.lookup(codebook, vq.nearest_codes(z, codebook)))

    jac = np.asarray(jax.jacobian(through)(z)).reshape(18, 18)
    np.testing.assert_array_equal(jac, np.eye(18))
    # the forward value is the quantised vector (z + (e - z): equal up to float32 round-off)
    np.testing.assert_allclose(np.asarray(through(z)),
                               np.asarray(codebook)[np.asarray(vq.nearest_codes(z, codebook))],
                               atol=1e-6)


def test_codebook_and_commitment_losses_send_gradients_to_one_side_each():
    z = jnp.array([[1.0, 2.0]])
    e = jnp.array([[0.0, 4.0]])
    dz_code, de_code = jax.grad(vq.codebook_loss, argnums=(0, 1))(z, e)
    dz_commit, de_commit = jax.grad(vq.commitment_loss, argnums=(0, 1))(z, e)
    np.testing.assert_array_equal(np.asarray(dz_code), 0.0)
    np.testing.assert_array_equal(np.asarray(de_commit), 0.0)
    # mean over the 2 elements of (e - z)^2: d/de = (e - z), d/dz = (z - e)
    np.testing.assert_allclose(np.asarray(de_code), [[-1.0, 2.0]])
    np.testing.assert_allclose(np.asarray(dz_commit), [[1.0, -2.0]])
    assert float(vq.codebook_loss(z, e)) == pytest.approx(2.5)


def test_perplexity_and_usage():
    k = 8
    assert float(vq.perplexity(vq.code_counts(jnp.arange(3 * k) % k, k))) == pytest.approx(k)
    assert float(vq.perplexity(vq.code_counts(jnp.zeros(10, jnp.int32), k))) == pytest.approx(1)
    counts = np.array([5.0, 0.0, 3.0, 2.0, 0.0, 10.0, 1.0, 0.0])
    p = counts[counts > 0] / counts.sum()
    assert float(vq.perplexity(jnp.asarray(counts))) == pytest.approx(
        np.exp(-(p * np.log(p)).sum()), rel=1e-6)
    assert float(vq.usage(jnp.asarray(counts))) == pytest.approx(5 / 8)


def _ema_reference(cluster, embed_sum, z, idx, decay, eps):
    """The paper's EMA (appendix A.1) with Sonnet's Laplace smoothing, float64, by loops."""
    cluster, embed_sum = cluster.astype(np.float64).copy(), embed_sum.astype(np.float64).copy()
    k = len(cluster)
    for code in range(k):
        members = z[idx == code].astype(np.float64)
        cluster[code] = decay * cluster[code] + (1 - decay) * len(members)
        embed_sum[code] = decay * embed_sum[code] + (1 - decay) * members.sum(0)
    n = cluster.sum()
    smoothed = (cluster + eps) / (n + k * eps) * n
    return cluster, embed_sum, embed_sum / smoothed[:, None]


def test_ema_update_matches_a_numpy_float64_reference():
    rng = np.random.default_rng(2)
    codebook = rng.normal(size=(4, 3)).astype(np.float32)
    z = rng.normal(size=(2, 5, 3)).astype(np.float32)
    state = vq.init_ema_state(jnp.asarray(codebook))
    cluster, embed_sum = np.ones(4), codebook.astype(np.float64)
    for step in range(3):  # three updates, code assignment recomputed each time
        idx = np.asarray(vq.nearest_codes(jnp.asarray(z), state["codebook"]))
        state = vq.codebook_ema_update(state, jnp.asarray(z), jnp.asarray(idx), 0.9, 1e-3)
        cluster, embed_sum, expected = _ema_reference(cluster, embed_sum, z.reshape(-1, 3),
                                                      idx.reshape(-1), 0.9, 1e-3)
        np.testing.assert_allclose(np.asarray(state["cluster_size"]), cluster, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(state["embed_sum"]), embed_sum, rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(np.asarray(state["codebook"]), expected, rtol=1e-5,
                                   atol=1e-6, err_msg=f"update {step}")


def test_a_restart_revives_a_code_that_no_input_selects():
    z = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    codebook = jnp.array([[0.5, 0.5], [100.0, 100.0], [0.1, 0.1]])  # code 1 is never nearest
    state = vq.init_ema_state(codebook)
    unused = jnp.zeros(3, jnp.int32)
    restart_after = 3
    for step in range(restart_after):
        idx = vq.nearest_codes(z, state["codebook"])
        counts = vq.code_counts(idx, 3)
        assert float(counts[1]) == 0
        unused = vq.update_unused(unused, counts)
        state, unused, restarted = vq.restart_dead_codes(
            state, unused, z, jax.random.PRNGKey(step), restart_after)
        assert int(restarted) == (1 if step == restart_after - 1 else 0)
    new_code = np.asarray(state["codebook"][1])
    assert any(np.array_equal(new_code, row) for row in np.asarray(z)), new_code
    np.testing.assert_array_equal(np.asarray(unused)[1], 0)
    assert float(state["cluster_size"][1]) == 1.0
    # the revived code is now the nearest code of the input it was seeded with
    assert 1 in set(np.asarray(vq.nearest_codes(z, state["codebook"])).tolist())
    np.testing.assert_array_equal(np.asarray(state["codebook"])[[0, 2]],
                                  np.asarray(codebook)[[0, 2]])  # live codes untouched


def test_quantiser_statistics_under_pmap_equal_the_single_device_ones():
    devices = 2
    rng = np.random.default_rng(3)
    z = jnp.asarray(rng.normal(size=(8, 3)), jnp.float32)
    state = vq.init_ema_state(jnp.asarray(rng.normal(size=(5, 3)), jnp.float32))
    unused = jnp.array([0, 7, 0, 9, 0], jnp.int32)  # codes 1 and 3 will be dead
    key = jax.random.PRNGKey(4)

    def run(z):
        idx = vq.nearest_codes(z, state["codebook"])
        counts = vq.code_counts(idx, 5)
        new = vq.codebook_ema_update(state, z, idx, 0.99, 1e-5)
        new, u, n = vq.restart_dead_codes(new, jnp.where(counts > 0, 0, unused + 1), z, key, 8)
        return counts, new, u, n

    single = run(z)
    sharded = jax.pmap(run, axis_name=DATA_AXIS, devices=jax.devices()[:devices])(
        z.reshape(devices, 4, 3))
    for a, b in zip(jax.tree.leaves(single), jax.tree.leaves(sharded), strict=True):
        for d in range(devices):
            np.testing.assert_allclose(np.asarray(b)[d], np.asarray(a), rtol=1e-6, atol=1e-7)
