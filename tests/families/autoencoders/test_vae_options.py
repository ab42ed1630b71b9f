"""The VAE's training options (issue 16): IWAE training bound, KL warm-up, shift augmentation,
MLP networks, cosine schedule; numerics against float64 NumPy / SciPy references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from genjax.config import ConfigError, load_config
from genjax.data import dataset_spec
from genjax.families.autoencoders.build import build_vae
from genjax.families.autoencoders.config import smallest_vae
from genjax.families.autoencoders.networks import MLPDecoder, MLPEncoder
from genjax.families.autoencoders.vae import random_shift
from tests.families.autoencoders.test_vae import LATENT, tiny_images, tiny_vae
from tests.helpers import assert_pmap_step_equals_single


class _Modality:
    batch_key = "image"


class _Context:
    modality = _Modality()


def _init(vae, n=6):
    x = jnp.asarray(tiny_images(n))
    return jax.jit(vae.init)(jax.random.PRNGKey(0), {"image": x}), x


@pytest.mark.parametrize("kl_weight", [1.0, 0.25])
def test_training_bound_equals_a_float64_numpy_log_mean_exp(kl_weight):
    vae = tiny_vae(train_k=5)
    state, x = _init(vae)
    inputs, targets = vae.prepare(x, jax.random.PRNGKey(3))
    key = jax.random.PRNGKey(9)
    bound, log_px, kl = jax.jit(vae.train_bound_terms)(state.params, inputs, targets, key,
                                                        kl_weight)
    mean, log_var = (np.asarray(a, np.float64) for a in jax.jit(vae.encode)(state.params, inputs))
    eps = np.asarray(jax.random.normal(key, (6, 5, LATENT)), np.float64)  # (B, k, latent)
    z = mean[:, None] + np.exp(0.5 * log_var[:, None]) * eps
    logits = np.asarray(vae.decoder.apply({"params": state.params["decoder"]},
                                          jnp.asarray(z, jnp.float32)), np.float64)
    t = np.asarray(targets, np.float64)[:, None]
    ref_px = (t * logits - np.logaddexp(0, logits)).sum((2, 3, 4))  # (B, k)
    ref_kl = (stats.norm.logpdf(z, mean[:, None], np.exp(0.5 * log_var[:, None])).sum(-1)
              - stats.norm.logpdf(z).sum(-1))
    ref = special.logsumexp(ref_px - kl_weight * ref_kl, axis=1) - np.log(5)
    np.testing.assert_allclose(np.asarray(bound), ref, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(log_px), ref_px.mean(1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(kl), ref_kl.mean(1), rtol=1e-4, atol=1e-4)


def test_iwae_training_step_descends_minus_the_bound_of_its_key():
    vae = tiny_vae(train_k=4)
    state, x = _init(vae, 16)
    key = jax.random.PRNGKey(2)
    kb, kz = jax.random.split(key)
    inputs, targets = vae.prepare(x, kb)
    bound = jax.jit(vae.train_bound_terms)(state.params, inputs, targets, kz, 1.0)[0]
    step = jax.jit(vae.train_step)
    new, m = step(state, {"image": x}, key)
    np.testing.assert_allclose(float(m["loss"]), -float(jnp.mean(bound)), rtol=1e-6)
    np.testing.assert_allclose(float(m["elbo"]), float(-m["recon"] - m["kl"]), rtol=1e-5)
    assert -float(m["loss"]) >= float(m["elbo"])  # Jensen on the same samples: L_k >= mean log w
    losses = []
    for i in range(40):
        new, m = step(new, {"image": x}, jax.random.PRNGKey(100 + i))
        losses.append(float(m["loss"]))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_kl_warmup_ramps_the_weight_linearly_to_beta():
    vae = tiny_vae(kl_warmup_steps=100, beta=2.0)
    got = [float(vae.kl_weight(jnp.int32(s))) for s in (0, 25, 100, 400)]
    np.testing.assert_allclose(got, [0.0, 0.5, 2.0, 2.0], rtol=1e-7)
    state, x = _init(vae)
    new, m = jax.jit(vae.train_step)(state, {"image": x}, jax.random.PRNGKey(1))
    assert float(m["kl_weight"]) == 0.0 and float(m["kl"]) > 0
    np.testing.assert_allclose(float(m["loss"]), float(m["recon"]), rtol=1e-6)  # KL off at 0
    later = new.replace(step=jnp.int32(50))
    _, m = jax.jit(vae.train_step)(later, {"image": x}, jax.random.PRNGKey(1))
    np.testing.assert_allclose(float(m["loss"]), float(m["recon"] + 1.0 * m["kl"]), rtol=1e-6)
    assert tiny_vae().kl_weight(jnp.int32(0)) == 1.0  # no warm-up: beta from the start


def test_random_shift_matches_a_numpy_translation():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (7, 6, 5, 2)).astype(np.float32)
    key, s = jax.random.PRNGKey(4), 2
    got = np.asarray(jax.jit(random_shift, static_argnums=2)(key, jnp.asarray(x), s))
    shift = np.asarray(jax.random.randint(key, (7, 2), -s, s + 1))
    assert shift.min() == -s and shift.max() == s  # the whole range is drawn
    for b, (dy, dx) in enumerate(shift):
        ref = np.full_like(x[b], -1.0)
        for i in range(6):
            for j in range(5):
                if 0 <= i - dy < 6 and 0 <= j - dx < 5:
                    ref[i, j] = x[b, i - dy, j - dx]
        np.testing.assert_array_equal(got[b], ref)
    np.testing.assert_array_equal(np.asarray(random_shift(key, jnp.asarray(x), 0)), x)


def test_training_shifts_the_images_and_evaluation_does_not():
    shifted, plain = tiny_vae(shift_pixels=1), tiny_vae()
    state, x = _init(plain, 16)
    key = jax.random.PRNGKey(6)
    moved = random_shift(jax.random.fold_in(key, 2), x, 1)
    assert not np.array_equal(np.asarray(moved), np.asarray(x))
    a, ma = jax.jit(shifted.train_step)(state, {"image": x}, key)
    b, mb = jax.jit(plain.train_step)(state, {"image": moved}, key)
    assert float(ma["loss"]) == float(mb["loss"])
    for u, v in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    ea = jax.jit(shifted.eval_metrics)(state, {"image": x}, key)
    eb = jax.jit(plain.eval_metrics)(state, {"image": x}, key)
    assert float(ea["elbo"]) == float(eb["elbo"])


def test_pmap_step_with_iwae_and_shifts_equals_the_single_device_step():
    vae = tiny_vae(train_k=3, shift_pixels=1, kl_warmup_steps=10)
    state, x = _init(vae, 32)
    state = state.replace(step=jnp.int32(4))
    assert_pmap_step_equals_single(vae, state, {"image": x}, jax.random.PRNGKey(4))


@pytest.mark.parametrize("kw, message", [
    (dict(train_k=0), "train_k must be >= 1"),
    (dict(shift_pixels=-1), "shift_pixels >= 0"),
    (dict(kl_warmup_steps=-5), "kl_warmup_steps"),
])
def test_bad_options_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        tiny_vae(**kw)


def test_mlp_encoder_and_decoder_match_numpy_dense_layers():
    z = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    dec = MLPDecoder(image_size=5, channels=2, features=(7,))
    params = dec.init(jax.random.PRNGKey(0), jnp.asarray(z))["params"]
    got = np.asarray(dec.apply({"params": params}, jnp.asarray(z)))
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    h = np.maximum(z @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"], 0)
    ref = (h @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"]).reshape(2, 3, 5, 5, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    enc = MLPEncoder(out_features=6, features=(7, 3))
    x = jnp.asarray(tiny_images(4))
    out = enc.apply(enc.init(jax.random.PRNGKey(0), x), x)
    assert out.shape == (4, 6)
    with pytest.raises(ValueError, match="expects images"):
        enc.init(jax.random.PRNGKey(0), x[0])


def test_config_options_reach_the_objective():
    config = smallest_vae()
    config.model.update({"architecture": "mlp", "mlp_features": (12, 6), "train_k": 3,
                         "kl_warmup_steps": 7, "shift_pixels": 1})
    config.optim.update({"schedule": "cosine", "warmup_steps": 2})
    config.train.steps = 10
    vae = build_vae(config, dataset_spec("digits"), _Context())
    assert (vae.train_k, vae.kl_warmup_steps, vae.shift_pixels) == (3, 7, 1)
    assert vae.encoder.features == (12, 6) and vae.decoder.features == (6, 12)
    state, x = _init(vae, 16)
    new, _ = jax.jit(vae.train_step)(state, {"image": x}, jax.random.PRNGKey(0))
    for u, v in zip(jax.tree.leaves(state.params), jax.tree.leaves(new.params), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))  # lr 0 at warm-up step 0
    _, m = jax.jit(vae.train_step)(new, {"image": x}, jax.random.PRNGKey(0))
    assert np.isfinite(float(m["loss"]))
    plain = build_vae(load_config("vae_mnist"), dataset_spec("mnist_subset"), _Context())
    assert (plain.train_k, plain.kl_warmup_steps, plain.shift_pixels) == (1, 0, 0)
    assert type(plain.encoder).__name__ == "Encoder"  # the conv default


@pytest.mark.parametrize("key, value, message", [
    ("model.architecture", "resnet", "model.architecture='resnet' is not one of"),
    ("optim.schedule", "linear", "optim.schedule='linear' is not one of"),
])
def test_unknown_architecture_or_schedule_is_a_config_error(key, value, message):
    config = smallest_vae()
    section, name = key.split(".")
    config[section][name] = value
    with pytest.raises(ConfigError, match=message):
        build_vae(config, dataset_spec("digits"), _Context())


def test_vae_mnist_best_trains_and_a_bad_option_is_one_error_line(tmp_path, capsys):
    from genjax.cli import main
    from tests.families.autoencoders.test_autoencoder_cli import TINY

    args = ["train", "vae_mnist_best", "--workdir", str(tmp_path / "a"),
            "--config.train.steps=2", "--config.train.eval_every=0", *TINY]
    assert main(args) == 0
    rows = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    assert any('"loss"' in r for r in rows)
    capsys.readouterr()
    bad = ["train", "vae_mnist", "--workdir", str(tmp_path / "b"), "--config.train.steps=1",
           "--config.model.architecture=resnet"]
    assert main(bad) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("genjax: error: ") and "model.architecture='resnet'" in err[-1]
