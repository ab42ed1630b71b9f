"""VQ-VAE objective and its prior stage on tiny networks."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.core.collectives import DATA_AXIS
from genjax.families.vqvae.networks import VQDecoder, VQEncoder
from genjax.families.vqvae.objective import VQVAE, image_quality
from genjax.families.vqvae.prior import HeldTree, VQVAEPrior
from genjax.families.vqvae.prior_network import CodePrior


def tiny_vqvae(**kw) -> VQVAE:
    kw.setdefault("num_codes", 8)
    return VQVAE(encoder=VQEncoder(features=(4, 8), code_dim=3, res_hidden=4),
                 decoder=VQDecoder(features=(4, 8), channels=1, res_hidden=4),
                 optimizer=optax.adam(1e-3), **kw)


def images(n=4, side=8, seed=0):
    return {"image": jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 1)),
                                 jnp.float32)}


def test_image_quality_matches_the_psnr_formula():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 4, 4, 1))
    r = x + rng.normal(0, 0.3, x.shape)
    mse = (((np.clip(r, -1, 1) - x) / 2) ** 2).reshape(3, -1).mean(1)
    got = image_quality(jnp.asarray(x, jnp.float32), jnp.asarray(r, jnp.float32))
    assert float(got["recon_mse"]) == pytest.approx(mse.mean(), rel=1e-5)
    assert float(got["psnr"]) == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-5)


@pytest.mark.parametrize("variant", ["plain", "ema"])
def test_step_updates_the_right_codebook_and_reports_metrics(variant):
    obj = tiny_vqvae(variant=variant, restarts=variant == "ema", restart_after=1)
    batch = images(n=8)  # the ema step is the one the pmap test compiles too
    state = obj.init(jax.random.PRNGKey(0), batch)
    before = np.asarray(obj.codebook(state.params, state.model_state))
    new, metrics = jax.jit(obj.train_step)(state, batch, jax.random.PRNGKey(1))
    after = np.asarray(obj.codebook(new.params, new.model_state))
    assert not np.array_equal(before, after)
    assert ("codebook" in state.params) == (variant == "plain")
    expected = {"loss", "recon_loss", "commitment", "codebook_loss", "perplexity", "usage",
                "recon_mse", "psnr"} | ({"restarts"} if variant == "ema" else set())
    assert set(metrics) == expected
    assert 1.0 <= float(metrics["perplexity"]) <= 8.0 and 0 < float(metrics["usage"]) <= 1
    # restart_after=1: every code unused in this batch was re-seeded
    if variant == "ema":
        used = np.asarray(new.model_state["quantizer"]["unused"])
        assert float(metrics["restarts"]) == 8 * (1 - float(metrics["usage"]))
        np.testing.assert_array_equal(used, 0)
    test = obj.test_metrics(new, batch, jax.random.PRNGKey(2))
    assert set(test) == {"recon_mse", "psnr", "perplexity", "usage"}
    assert obj.reconstruct(new, batch, jax.random.PRNGKey(2)).shape == (8, 8, 8, 1)


def test_bad_settings_get_a_clear_error():
    with pytest.raises(ValueError, match="restarts need the 'ema' variant"):
        tiny_vqvae(variant="plain", restarts=True)
    with pytest.raises(ValueError, match="unknown VQ-VAE variant"):
        tiny_vqvae(variant="kmeans")
    abilities = tiny_vqvae().capabilities
    assert not abilities.sample and not hasattr(VQVAE, "sample")
    assert "vqvae_prior_mnist" in abilities.cannot_sample


def test_vqvae_step_under_pmap_equals_the_single_device_step():
    devices = 2
    obj = tiny_vqvae(restart_after=1)
    batch = images(n=8)
    state = obj.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(5)
    single, m1 = jax.jit(obj.train_step)(state, batch, key)
    rep = jax.tree.map(lambda x: jnp.stack([x] * devices), state)
    shards = jax.tree.map(lambda x: x.reshape(devices, -1, *x.shape[1:]), batch)
    multi, m2 = jax.pmap(lambda s, b: obj.train_step(s, b, key), axis_name=DATA_AXIS,
                         devices=jax.devices()[:devices])(rep, shards)
    assert float(m1["restarts"]) > 0  # the restart path ran
    for a, b in zip(jax.tree.leaves(single), jax.tree.leaves(multi), strict=True):
        np.testing.assert_allclose(np.asarray(b)[0], np.asarray(a), rtol=2e-5, atol=2e-6)
    for name in ("perplexity", "usage", "restarts"):
        np.testing.assert_allclose(np.asarray(m2[name]), float(m1[name]), rtol=1e-6)


def test_prior_learns_and_samples_decodable_codes():
    vq = tiny_vqvae()
    batch = images()
    vq_state = vq.init(jax.random.PRNGKey(0), batch)
    prior = VQVAEPrior(vqvae=vq, prior=CodePrior(num_codes=8, length=4, width=8, depth=1, heads=2),
                       optimizer=optax.adam(1e-2),
                       frozen=HeldTree({"params": vq_state.params,
                                        "model_state": vq_state.model_state}))
    state = prior.init(jax.random.PRNGKey(1), batch)
    step = jax.jit(prior.train_step)
    first = None
    for i in range(30):
        state, metrics = step(state, batch, jax.random.PRNGKey(i))
        first = float(metrics["nll"]) if first is None else first
    assert float(metrics["nll"]) < first - 0.3
    np.testing.assert_allclose(float(metrics["bits_per_image"]),
                               float(metrics["nll"]) * 4 / np.log(2), rtol=1e-6)
    # the frozen VQ-VAE is carried unchanged
    for a, b in zip(jax.tree.leaves(vq_state.params),
                    jax.tree.leaves(state.model_state["vqvae"]["params"]), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    codes, out, decoded = jax.jit(lambda s, k: (
        prior.sample_codes(s.params, k, 5), prior.sample(s, k, 5),
        vq.decode(vq_state.params, vq_state.model_state,
                  prior.sample_codes(s.params, k, 5).reshape(5, 2, 2))))(
        state, jax.random.PRNGKey(2))
    assert codes.shape == (5, 4) and int(codes.min()) >= 0 and int(codes.max()) < 8
    assert out.shape == (5, 8, 8, 1) and float(jnp.abs(out).max()) <= 1.0
    np.testing.assert_array_equal(np.asarray(out), np.asarray(decoded))
