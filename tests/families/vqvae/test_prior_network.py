"""The code prior is causal, and its cached one-scan sampler draws exactly the codes of a
naive sampler that re-runs the whole network on the partial grid for every position."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.vqvae.prior_network import CodePrior


def test_changing_a_later_code_leaves_earlier_logits_unchanged():
    model = CodePrior(num_codes=6, length=9, width=16, depth=2, heads=2)
    codes = jax.random.randint(jax.random.PRNGKey(0), (3, 9), 0, 6)
    params = model.init(jax.random.PRNGKey(1), codes)["params"]
    apply = jax.jit(lambda c: model.apply({"params": params}, c))
    base = np.asarray(apply(codes))
    assert base.shape == (3, 9, 6)  # the K codes' logits (not the start token's)
    for j in (0, 4, 8):
        changed = codes.at[:, j].set((codes[:, j] + 1) % 6)
        out = np.asarray(apply(changed))
        np.testing.assert_array_equal(out[:, : j + 1], base[:, : j + 1])
        if j < 8:  # the next position sees the change
            assert np.abs(out[:, j + 1] - base[:, j + 1]).max() > 1e-6


def test_wrong_sequence_length_is_refused():
    model = CodePrior(num_codes=6, length=9, width=16, depth=1, heads=2)
    with pytest.raises(ValueError, match=r"shape \(batch, 9\)"):
        model.init(jax.random.PRNGKey(0), jnp.zeros((2, 8), jnp.int32))


def naive_codes(model, params, key, num, temperature):
    """The reference: at each position t, the full forward pass on the codes so far and a
    draw from ``logits[:, t] / temperature`` with ``fold_in(key, t)`` (what the prior did
    before it had a cache)."""
    codes = np.zeros((num, model.length), np.int32)
    apply = jax.jit(lambda c: model.apply({"params": params}, c))
    for t in range(model.length):
        logits = apply(jnp.asarray(codes))[:, t]
        codes[:, t] = np.asarray(jax.random.categorical(jax.random.fold_in(key, t),
                                                        logits / temperature))
    return codes


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_cached_sampling_draws_the_codes_of_naive_sampling(temperature):
    import optax

    from genjax.families.vqvae.prior import HeldTree, VQVAEPrior
    from tests.families.vqvae.test_vqvae import tiny_vqvae

    model = CodePrior(num_codes=8, length=9, width=16, depth=2, heads=2)
    params = model.init(jax.random.PRNGKey(3), jnp.zeros((1, 9), jnp.int32))["params"]
    # larger weights than the init's: sharper, position-dependent distributions
    params = jax.tree.map(lambda p: p * 4.0, params)
    prior = VQVAEPrior(vqvae=tiny_vqvae(), prior=model, optimizer=optax.adam(1e-3),
                       frozen=HeldTree({}))
    key = jax.random.PRNGKey(11)
    cached = np.asarray(jax.jit(lambda p, k: prior.sample_codes(p, k, 6, temperature))(
        params, key))
    expected = naive_codes(model, params, key, 6, temperature)
    np.testing.assert_array_equal(cached, expected)
    assert len(np.unique(cached)) > 3  # a real draw, not a constant
