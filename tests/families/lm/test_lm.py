"""The language-model families: cached sampling, bits per byte, sampling filters."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.families.lm.objective import LanguageModel
from genjax.families.lm.rnn import RNNLanguageModel
from genjax.nn.decoding import filter_logits, generate, sample_token
from genjax.nn.transformer import Transformer

CONTEXT = 24
MODELS = {
    "gpt": Transformer(vocab_size=256, max_len=CONTEXT, features=16, num_layers=2,
                       num_heads=2, mlp_ratio=2),
    "lstm": RNNLanguageModel(vocab_size=256, features=16, num_layers=2, cell="lstm"),
    "gru": RNNLanguageModel(vocab_size=256, features=16, num_layers=1, cell="gru"),
}


def objective(name: str) -> LanguageModel:
    return LanguageModel(model=MODELS[name], optimizer=optax.adam(1e-3), context=CONTEXT,
                         sample_length=8)


def state_of(obj: LanguageModel, seed: int = 0):
    batch = {"text": np.zeros((2, CONTEXT + 1), np.int32)}
    return obj.init(jax.random.PRNGKey(seed), batch)


def uncached(model, params, prompt, prompt_len, key, temperature, top_k, top_p):
    """The reference: every step runs the full forward pass over all the tokens (later
    positions hold padding or earlier draws; causal attention ignores them at ``t``)."""
    tokens = np.array(prompt)
    forward = jax.jit(lambda p, x, t: model.apply({"params": p}, x)[:, t])
    draw = jax.jit(sample_token)
    for t in range(tokens.shape[1] - 1):
        logits = forward(params, jnp.asarray(tokens), t)
        drawn = draw(jax.random.fold_in(key, t), logits, temperature, top_k, top_p)
        if t + 1 >= prompt_len:
            tokens[:, t + 1] = np.asarray(drawn)
    return tokens


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cached_sampling_gives_the_tokens_of_uncached_sampling(name):
    obj = objective(name)
    params = state_of(obj).params
    prompt = np.zeros((3, 16), np.int32)
    prompt[:, :5] = np.frombuffer(b"In th", np.uint8)
    key = jax.random.PRNGKey(7)
    options = (jnp.float32(0.9), jnp.int32(20), jnp.float32(0.95))
    cached = generate(obj.model, params, jnp.asarray(prompt), jnp.int32(5), key, *options)
    reference = uncached(obj.model, params, prompt, 5, key, *options)
    np.testing.assert_array_equal(np.asarray(cached), reference)
    np.testing.assert_array_equal(np.asarray(cached)[:, :5], prompt[:, :5])
    assert len({bytes(row) for row in np.asarray(cached)[:, 5:].astype(np.uint8)}) > 1


def test_prompts_of_any_length_share_one_compiled_scan():
    obj = objective("gpt")
    state = state_of(obj)
    outs = [obj.sample(state, jax.random.PRNGKey(0), 2, prompt=p, length=4)
            for p in ("a", "In the", "In the begin")]  # totals 5, 10, 16: one padded length
    assert [o.shape for o in outs] == [(2, 5), (2, 10), (2, 16)]
    before = generate._cache_size()
    obj.sample(state, jax.random.PRNGKey(1), 2, prompt="And God", length=5)
    assert generate._cache_size() == before
    assert bytes(np.asarray(outs[1][0, :6]).astype(np.uint8)) == b"In the"


def reference_filter(logits, temperature, top_k, top_p):
    """Float64 NumPy top-k then nucleus filter, one row at a time."""
    out = []
    for row in np.asarray(logits, np.float64) / temperature:
        order = np.argsort(-row, kind="stable")
        keep = np.ones(len(row), bool)
        if top_k:
            keep[order[top_k:]] = False
        probs = np.exp(row - row.max()) * keep
        probs /= probs.sum()
        mass = 0.0
        nucleus = np.zeros(len(row), bool)
        for i in order:
            if not keep[i] or mass >= top_p:
                break
            nucleus[i] = True
            mass += probs[i]
        out.append(np.where(nucleus, row, -np.inf))
    return np.array(out)


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, 0, 1.0), (0.7, 5, 1.0),
                                                      (1.3, 0, 0.6), (1.0, 8, 0.9),
                                                      (0.5, 1, 1.0), (1.0, 0, 0.01)])
def test_filter_logits_against_a_numpy_reference(temperature, top_k, top_p):
    logits = jax.random.normal(jax.random.PRNGKey(3), (4, 30)) * 2.0
    got = np.asarray(filter_logits(logits, jnp.float32(temperature), jnp.int32(top_k),
                                   jnp.float32(top_p)))
    want = reference_filter(logits, temperature, top_k, top_p)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got[~np.isinf(got)], want[~np.isinf(want)], rtol=1e-6)


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_bits_per_byte_against_a_float64_reference(name):
    obj = objective(name)
    state = state_of(obj, seed=1)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 256, (4, CONTEXT + 1)).astype(np.int32)
    metrics = obj.eval_metrics(state, {"text": tokens}, jax.random.PRNGKey(0))
    logits = np.asarray(obj.model.apply({"params": state.params}, tokens[:, :-1]), np.float64)
    top = logits.max(-1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    nats = -np.take_along_axis(log_probs, tokens[:, 1:, None], -1).mean()
    np.testing.assert_allclose(float(metrics["loss"]), nats, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["bits_per_byte"]), nats / math.log(2), rtol=1e-5)
    # an untrained byte model is near uniform: about 8 bits per byte
    assert 7.5 < float(metrics["bits_per_byte"]) < 8.5


def test_a_few_steps_lower_the_loss_on_repeated_text():
    obj = dataclasses.replace(objective("gpt"), optimizer=optax.adam(1e-2))
    state = state_of(obj)
    text = np.frombuffer((b"the cat sat on the mat. " * 4)[:CONTEXT + 1], np.uint8)
    batch = {"text": np.stack([text, text]).astype(np.int32)}
    step = jax.jit(obj.train_step)
    first = None
    for i in range(30):
        state, metrics = step(state, batch, jax.random.PRNGKey(i))
        first = first if first is not None else float(metrics["loss"])
    assert float(metrics["loss"]) < 0.5 * first


@pytest.mark.parametrize("options,match", [
    ({"prompt": ""}, "prompt is empty"),
    ({"temperature": 0.0}, "temperature must be > 0"),
    ({"top_p": 0.0}, r"top-p must be in \(0, 1\]"),
    ({"top_p": 1.5}, r"top-p must be in \(0, 1\]"),
    ({"top_k": -2}, "top-k must be >= 0"),
    ({"length": CONTEXT}, "exceed the model's context"),
    ({"prompt": "x" * CONTEXT}, "context is 24 tokens"),
])
def test_bad_sample_options(options, match):
    obj = objective("gpt")
    with pytest.raises(ValueError, match=match):
        obj.sample(state_of(obj), jax.random.PRNGKey(0), 1, **options)


@pytest.mark.parametrize("model", [
    Transformer(vocab_size=256, max_len=CONTEXT, features=16, num_layers=1, num_heads=2,
                dtype=jnp.bfloat16),
    RNNLanguageModel(vocab_size=256, features=16, num_layers=1, cell="lstm",
                     dtype=jnp.bfloat16)], ids=["gpt", "lstm"])
def test_bf16_activations_keep_float32_parameters_and_losses(model):
    obj = LanguageModel(model=model, optimizer=optax.adam(1e-3), context=CONTEXT,
                        sample_length=4)
    state = state_of(obj)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(state.params))
    tokens = np.random.default_rng(0).integers(0, 256, (2, CONTEXT + 1)).astype(np.int32)
    state, metrics = jax.jit(obj.train_step)(state, {"text": tokens}, jax.random.PRNGKey(0))
    assert metrics["loss"].dtype == jnp.float32 and 7.0 < float(metrics["bits_per_byte"]) < 9.0
    out = obj.sample(state, jax.random.PRNGKey(1), 2, prompt="ab", length=4)
    assert out.shape == (2, 6) and out.dtype == jnp.int32
