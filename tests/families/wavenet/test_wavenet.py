"""WaveNet: cached == naive sampling, causal receptive field, bits per sample vs NumPy."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.families.wavenet.mulaw import mu_law_decode, mu_law_encode, silence
from genjax.families.wavenet.network import WaveNet, receptive_field
from genjax.families.wavenet.objective import WaveNetObjective, generate

DILATIONS = (1, 2, 4, 1, 2)
LEVELS = 16


def tiny(num_classes=3):
    return WaveNet(dilations=DILATIONS, residual=6, skip=12, levels=LEVELS,
                   num_classes=num_classes)


def noisy_params(model, seed=0):
    """Initial parameters with every bias perturbed too (no accidental exact zeros)."""
    params = model.init(jax.random.key(seed), jnp.zeros((2, 8), jnp.int32),
                        jnp.zeros((2,), jnp.int32))["params"]
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.key(seed + 1), len(leaves))
    return jax.tree_util.tree_unflatten(
        tree, [p + 0.3 * jax.random.normal(k, p.shape) for p, k in zip(leaves, keys, strict=True)])


@pytest.mark.parametrize("num_classes", [0, 3])
def test_cached_sampling_gives_the_tokens_of_naive_sampling(num_classes):
    model = tiny(num_classes)
    params = noisy_params(model)
    labels = jnp.array([0, 2, 1, 2], jnp.int32)
    key, length, temperature = jax.random.key(7), 40, jnp.float32(1.3)
    cached = np.asarray(generate(model, params, labels, key, length, temperature))

    # naive: re-run the whole network over the sequence so far at every step
    seq = np.full((4, length + 1), silence(LEVELS), np.int32)
    lab = labels if num_classes else None
    forward = jax.jit(lambda s: model.apply({"params": params}, s, lab))
    for t in range(length):
        logits = forward(jnp.asarray(seq[:, :-1]))[:, t]
        seq[:, t + 1] = np.asarray(jax.random.categorical(jax.random.fold_in(key, t),
                                                          logits / temperature))
    np.testing.assert_array_equal(cached, seq[:, 1:])
    assert len(np.unique(cached)) > 3  # really sampled, not a constant


def test_decode_steps_give_the_logits_of_the_full_forward():
    model = tiny()
    params = noisy_params(model)
    x = jax.random.randint(jax.random.key(3), (3, 30), 0, LEVELS)
    labels = jnp.array([1, 0, 2])
    full = model.apply({"params": params}, x, labels)
    queues = model.init_queues(3)
    for t in range(30):
        logits, queues = model.apply({"params": params}, x[:, t], labels, queues, t,
                                     method="decode")
        np.testing.assert_allclose(logits, full[:, t], rtol=1e-5, atol=1e-5)


def test_receptive_field_is_causal_and_exactly_as_wide_as_the_dilations_say():
    model = tiny()
    params = noisy_params(model)
    rf = receptive_field(DILATIONS)
    assert rf == 2 + sum(DILATIONS) == 12
    length, t = 32, 20
    onehot = jax.nn.one_hot(jax.random.randint(jax.random.key(5), (1, length), 0, LEVELS),
                            LEVELS)

    def out_at_t(x):
        return jnp.sum(model.apply({"params": params}, x, jnp.array([1]))[0, t] ** 2)

    grad = np.asarray(jax.grad(out_at_t)(onehot))[0]  # (length, levels)
    depends = np.abs(grad).sum(axis=1) > 0
    expected = np.zeros(length, bool)
    expected[t - rf + 1:t + 1] = True
    np.testing.assert_array_equal(depends, expected)


def numpy_forward(params, tokens, labels, dilations, residual):
    """The network in float64 NumPy, from the module docstring's equations."""
    p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params)

    def shifted(h, d):
        out = np.zeros_like(h)
        out[:, d:] = h[:, :-d]
        return out

    def dense(name, h):
        return h @ p[name]["kernel"] + p[name].get("bias", 0.0)

    h = p["embed_now"][tokens] + shifted(p["embed_past"][tokens], 1)
    skips = 0.0
    for i, d in enumerate(dilations):
        z = dense(f"conv_now_{i}", h) + dense(f"conv_past_{i}", shifted(h, d))
        z = z + p[f"cond_{i}"]["embedding"][labels][:, None]
        g = np.tanh(z[..., :residual]) / (1 + np.exp(-z[..., residual:]))
        skips = skips + dense(f"skips_{i}", g)
        h = h + dense(f"res_{i}", g)
    return dense("logits", np.maximum(dense("head", np.maximum(skips, 0)), 0))


def test_test_bits_per_sample_match_a_float64_numpy_reference():
    model = WaveNet(dilations=(1, 2, 4), residual=6, skip=12, levels=256, num_classes=10)
    objective = WaveNetObjective(model=model, optimizer=optax.adam(1e-3), segment=16,
                                 sample_length=8)
    rng = np.random.default_rng(0)
    audio = (0.5 * np.sin(np.linspace(0, 40, 200))[None] * rng.uniform(0.2, 1, (4, 1))
             + 0.05 * rng.normal(size=(4, 200))).astype(np.float32)
    batch = {"audio": audio, "label": np.array([3, 1, 4, 1])}
    state = objective.init(jax.random.key(0), batch)
    got = objective.test_metrics(state, batch, jax.random.key(1))

    tokens = np.asarray(mu_law_encode(audio))  # (checked against NumPy in test_mulaw)
    logits = numpy_forward(state.params, tokens[:, :-1], batch["label"], (1, 2, 4), 6)
    logp = logits - logits.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    nats = -np.take_along_axis(logp, tokens[:, 1:, None], -1).mean()
    np.testing.assert_allclose(float(got["nats_per_sample"]), nats, rtol=1e-5)
    np.testing.assert_allclose(float(got["bits_per_sample"]), nats / math.log(2), rtol=1e-5)
    # an untrained network is close to a uniform guess over 256 levels
    assert 6 < float(got["bits_per_sample"]) < 12


def test_training_lowers_the_loss_and_crops_follow_the_key():
    model = WaveNet(dilations=(1, 2), residual=8, skip=8, levels=256)
    objective = WaveNetObjective(model=model, optimizer=optax.adam(3e-3), segment=32)
    t = np.arange(400)
    batch = {"audio": (0.6 * np.sin(2 * np.pi * t / 25))[None].repeat(4, 0).astype(np.float32)}
    a = objective.crop(jnp.asarray(batch["audio"]), jax.random.key(1))
    b = objective.crop(jnp.asarray(batch["audio"]), jax.random.key(1))
    c = objective.crop(jnp.asarray(batch["audio"]), jax.random.key(2))
    assert a.shape == (4, 33) and np.array_equal(a, b) and not np.array_equal(a, c)
    state = objective.init(jax.random.key(0), batch)
    step = jax.jit(objective.train_step)
    first = None
    for i in range(30):
        state, metrics = step(state, batch, jax.random.key(i))
        first = first if first is not None else float(metrics["bits_per_sample"])
    assert float(metrics["bits_per_sample"]) < first - 1.0, (first, metrics)


def test_sample_returns_waveforms_and_refuses_bad_options():
    model = tiny()
    objective = WaveNetObjective(model=model, optimizer=optax.adam(1e-3), segment=8,
                                 sample_length=12)
    state = objective.init(jax.random.key(0), {"audio": np.zeros((2, 20), np.float32),
                                               "label": np.array([0, 1])})
    out = np.asarray(objective.sample(state, jax.random.key(1), 5, label=2))
    assert out.shape == (5, 12) and np.all(np.abs(out) <= 1)
    levels = np.asarray(mu_law_encode(out, LEVELS))
    np.testing.assert_allclose(np.asarray(mu_law_decode(levels, LEVELS)), out, atol=1e-6)
    for options, message in (({"label": 3}, r"--label must be in 0\.\.2"),
                             ({"length": 0}, "--length must be >= 1"),
                             ({"temperature": 0.0}, "--temperature must be > 0")):
        with pytest.raises(ValueError, match=message):
            objective.sample(state, jax.random.key(1), 2, **options)
    unconditional = WaveNetObjective(model=tiny(0), optimizer=optax.adam(1e-3), segment=8)
    with pytest.raises(ValueError, match="needs a label-conditioned WaveNet"):
        unconditional.sample(state, jax.random.key(1), 2, label=1)
