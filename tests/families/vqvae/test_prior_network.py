"""The code prior is causal: logits at t never depend on codes at t or later."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.families.vqvae.prior_network import CodeTransformer


def test_changing_a_later_code_leaves_earlier_logits_unchanged():
    model = CodeTransformer(num_codes=6, length=9, width=16, depth=2, heads=2)
    codes = jax.random.randint(jax.random.PRNGKey(0), (3, 9), 0, 6)
    params = model.init(jax.random.PRNGKey(1), codes)["params"]
    apply = jax.jit(lambda c: model.apply({"params": params}, c))
    base = np.asarray(apply(codes))
    assert base.shape == (3, 9, 6)
    for j in (0, 4, 8):
        changed = codes.at[:, j].set((codes[:, j] + 1) % 6)
        out = np.asarray(apply(changed))
        np.testing.assert_array_equal(out[:, : j + 1], base[:, : j + 1])
        if j < 8:  # the next position sees the change
            assert np.abs(out[:, j + 1] - base[:, j + 1]).max() > 1e-6


def test_wrong_sequence_length_is_refused():
    model = CodeTransformer(num_codes=6, length=9, width=16, depth=1, heads=2)
    with pytest.raises(ValueError, match=r"shape \(batch, 9\)"):
        model.init(jax.random.PRNGKey(0), jnp.zeros((2, 8), jnp.int32))
