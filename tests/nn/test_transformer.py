"""genjax.nn.transformer: causality, the cached decode path, parameter count."""

import jax
import jax.numpy as jnp
import numpy as np

from genjax.nn.transformer import Transformer

MODEL = Transformer(vocab_size=11, max_len=12, features=16, num_layers=2, num_heads=4,
                    mlp_ratio=2)


def params_of(model, key=0):
    tokens = jnp.zeros((1, model.max_len), jnp.int32)
    return model.init(jax.random.PRNGKey(key), tokens)["params"]


def test_attention_is_causal():
    params = params_of(MODEL)
    x = jax.random.randint(jax.random.PRNGKey(1), (2, 12), 0, 11)
    y = x.at[:, 7:].set((x[:, 7:] + 3) % 11)  # change the future of position 6
    a, b = (MODEL.apply({"params": params}, t) for t in (x, y))
    np.testing.assert_allclose(a[:, :7], b[:, :7], atol=1e-6)
    assert not np.allclose(a[:, 7:], b[:, 7:])


def test_cached_decode_gives_the_full_forward_logits():
    params = params_of(MODEL)
    x = jax.random.randint(jax.random.PRNGKey(2), (3, 12), 0, 11)
    full = MODEL.apply({"params": params}, x)
    cache = MODEL.init_cache(3)
    decode = jax.jit(lambda p, token, t, c: MODEL.apply({"params": p}, token, t, c,
                                                        method="decode"))
    for t in range(12):
        logits, cache = decode(params, x[:, t], jnp.int32(t), cache)
        np.testing.assert_allclose(logits, full[:, t], atol=2e-5, rtol=1e-5)


def test_parameter_count_and_tied_output():
    params = params_of(MODEL)
    v, t, d, h, L = 11, 12, 16, 2 * 16, 2
    per_block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d)
    expected = v * d + t * d + L * per_block + 2 * d  # no separate output matrix (tied)
    assert sum(p.size for p in jax.tree.leaves(params)) == expected
    assert set(params) == {"embed", "position", "block_0", "block_1", "ln_f"}
