"""VAE: KL, likelihoods, binarisation and the IWAE bound against float64 NumPy references."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import special, stats

from genjax.families.autoencoders.networks import Decoder, Encoder
from genjax.families.autoencoders.vae import VAE, gaussian_kl, importance_bound
from genjax.losses.likelihood import (
    bernoulli_log_prob,
    binarize,
    diag_normal_log_prob,
    gaussian_log_prob,
    standard_normal_log_prob,
)
from tests.helpers import assert_pmap_step_equals_single

LATENT = 2


def tiny_vae(**kw) -> VAE:
    """An 8x8 VAE with one conv stage: small enough for many evaluations in a test."""
    return VAE(encoder=Encoder(2 * LATENT, features=(4,), hidden=16),
               decoder=Decoder(image_size=8, channels=1, features=(4,), hidden=16),
               latent_dim=LATENT, optimizer=optax.adam(1e-3), **kw)


def tiny_images(n=6, seed=0) -> np.ndarray:
    """Grey images in [-1, 1] with some pixels exactly at the ends."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32)
    x[:, :2] = -1.0
    return x


def test_analytic_kl_matches_float64_monte_carlo():
    rng = np.random.default_rng(0)
    mean = np.array([0.7, -1.2, 0.1])
    log_var = np.array([-0.5, 0.8, -2.0])
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal((400_000, 3))
    log_q = stats.norm.logpdf(z, mean, std).sum(1)
    log_p = stats.norm.logpdf(z).sum(1)
    diff = log_q - log_p
    mc, se = diff.mean(), diff.std() / np.sqrt(len(diff))
    kl = float(gaussian_kl(jnp.asarray(mean, jnp.float32), jnp.asarray(log_var, jnp.float32)))
    assert abs(kl - mc) < 4 * se, (kl, mc, se)
    assert se < 0.01  # the check is sharp enough to catch a wrong factor


def test_bernoulli_log_prob_matches_numpy_float64():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 4, (3, 5, 5, 1))
    x = (rng.uniform(size=logits.shape) < 0.4).astype(np.float64)
    p = 1 / (1 + np.exp(-logits))
    ref = (x * np.log(p) + (1 - x) * np.log1p(-p)).sum((1, 2, 3))
    got = bernoulli_log_prob(jnp.asarray(logits, jnp.float32), jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)
    # extreme logits stay finite and exact: log sigmoid(-60) = -60 (to float precision)
    far = bernoulli_log_prob(jnp.full((1, 1, 1, 1), -60.0), jnp.ones((1, 1, 1, 1)))
    np.testing.assert_allclose(np.asarray(far), [-60.0], rtol=1e-6)


def test_gaussian_log_prob_matches_scipy():
    rng = np.random.default_rng(2)
    mean, x = rng.normal(size=(2, 4, 4, 2)), rng.normal(size=(2, 4, 4, 2))
    log_scale = np.array([-1.0, 0.5])
    ref = stats.norm.logpdf(x, mean, np.exp(log_scale)).sum((1, 2, 3))
    got = gaussian_log_prob(*(jnp.asarray(a, jnp.float32) for a in (mean, log_scale, x)))
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)


def test_normal_log_probs_match_scipy():
    rng = np.random.default_rng(3)
    z, mean, log_var = rng.normal(size=(3, 5, 4))
    np.testing.assert_allclose(np.asarray(standard_normal_log_prob(jnp.asarray(z))),
                               stats.norm.logpdf(z).sum(-1), rtol=1e-5)
    ref = stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(-1)
    got = diag_normal_log_prob(*(jnp.asarray(a, jnp.float32) for a in (z, mean, log_var)))
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)


def test_dynamic_binarisation_has_bernoulli_intensity_marginals():
    p = np.linspace(0, 1, 11, dtype=np.float32)
    n = 20_000
    x = np.asarray(binarize(jax.random.PRNGKey(0), jnp.broadcast_to(p, (n, 11))))
    assert set(np.unique(x)) <= {0.0, 1.0}
    se = np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_less(np.abs(x.mean(0) - p), 4 * se + 1e-12)
    np.testing.assert_array_equal(x[:, 0], 0.0)  # intensity 0 and 1 are kept as they are
    np.testing.assert_array_equal(x[:, -1], 1.0)
    # fresh keys give fresh binarisations; the same key the same one
    y = np.asarray(binarize(jax.random.PRNGKey(1), jnp.broadcast_to(p, (n, 11))))
    assert (x != y).mean() > 0.1
    np.testing.assert_array_equal(
        x, np.asarray(binarize(jax.random.PRNGKey(0), jnp.broadcast_to(p, (n, 11)))))


def test_importance_bound_is_stable_in_float32():
    log_w = np.array([[-10_000.0, -10_001.0, -10_003.5], [-50.0, -1e30, -49.0]])
    got = importance_bound(jnp.asarray(log_w, jnp.float32), axis=1)
    ref = special.logsumexp(log_w, axis=1) - np.log(3)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-6)


@pytest.fixture(scope="module")
def trained():
    """A tiny VAE after 30 jitted steps (with its losses), and a binarised batch."""
    vae = tiny_vae()
    x = jnp.asarray(tiny_images(32))
    state = jax.jit(vae.init)(jax.random.PRNGKey(0), {"image": x})
    step = jax.jit(vae.train_step)
    metrics = []
    for i in range(30):
        state, m = step(state, {"image": x}, jax.random.PRNGKey(100 + i))
        metrics.append(jax.device_get(m))
    inputs, targets = vae.prepare(x[:6], jax.random.PRNGKey(7))
    return vae, state, inputs, targets, metrics, step


def test_training_lowers_the_loss_and_samples_are_images(trained):
    vae, state, inputs, _, metrics, _ = trained
    losses = [float(m["loss"]) for m in metrics]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    for m in metrics:  # beta = 1: loss = recon + kl = -elbo
        np.testing.assert_allclose(m["loss"], m["recon"] + m["kl"], rtol=1e-5)
        np.testing.assert_allclose(m["elbo"], -m["loss"], rtol=1e-5)
    s, r = jax.jit(lambda key: (vae.sample(state, key, 5),
                                vae.reconstruct(state, {"image": inputs[:3]}, key)))(
        jax.random.PRNGKey(0))
    s, r = np.asarray(s), np.asarray(r)
    assert s.shape == (5, 8, 8, 1) and r.shape == (3, 8, 8, 1)
    assert s.min() >= -1 and s.max() <= 1 and r.min() >= -1 and r.max() <= 1


def test_iwae_bound_equals_a_float64_numpy_evaluation_of_the_same_samples(trained):
    vae, state, inputs, targets, _, _ = trained
    vae = dataclasses.replace(vae, iwae_chunk=6 * 3)  # 3 samples per chunk: k=7 leaves 2 over
    key, k = jax.random.PRNGKey(5), 7
    got = np.asarray(jax.jit(vae.iwae_bound, static_argnums=4)(
        state.params, inputs, targets, key, k))
    mean, log_var = (np.asarray(a, np.float64)
                     for a in jax.jit(vae.encode)(state.params, inputs))
    eps = np.concatenate([np.asarray(jax.random.normal(jax.random.fold_in(key, j), (3, 6, 2)))
                          for j in range(3)])[:k].astype(np.float64)
    z = mean + np.exp(0.5 * log_var) * eps  # (k, B, latent)
    logits = np.asarray(jax.jit(vae.decoder.apply)({"params": state.params["decoder"]},
                                                   jnp.asarray(z, jnp.float32)), np.float64)
    t = np.asarray(targets, np.float64)
    log_px = (t * logits - np.logaddexp(0, logits)).sum((2, 3, 4))
    log_pz = stats.norm.logpdf(z).sum(-1)
    log_qz = stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(-1)
    ref = special.logsumexp(log_px + log_pz - log_qz, axis=0) - np.log(k)
    np.testing.assert_allclose(got, ref, rtol=1e-4)


def test_iwae_bound_grows_with_k_and_exceeds_the_elbo(trained):
    vae, state, inputs, targets, _, _ = trained
    ks, repeats = (1, 4, 32), 64

    @jax.jit
    def bounds(key):
        kb, ke = jax.random.split(key)
        log_px, kl = vae.elbo_terms(state.params, inputs, targets, ke)
        return [vae.iwae_bound(state.params, inputs, targets, kb, k) for k in ks], log_px - kl

    runs = [jax.device_get(bounds(key))
            for key in jax.random.split(jax.random.PRNGKey(11), repeats)]
    vals = {k: np.stack([r[0][i] for r in runs]) for i, k in enumerate(ks)}  # (repeats, B)
    means = {k: v.mean(0) for k, v in vals.items()}
    ses = {k: v.std(0) / np.sqrt(repeats) for k, v in vals.items()}
    # The ELBO itself: analytic KL, reconstruction term averaged over independent samples.
    elbo = np.stack([r[1] for r in runs])
    elbo_mean, elbo_se = elbo.mean(0), elbo.std(0) / np.sqrt(repeats)
    for a, b in ((1, 4), (4, 32)):
        assert np.all(means[b] >= means[a] - 3 * np.hypot(ses[a], ses[b])), (a, b, means)
    assert np.mean(means[32]) > np.mean(means[1])
    assert np.all(means[32] >= elbo_mean - 3 * elbo_se), (means[32], elbo_mean)
    # k = 1 is an unbiased estimate of the ELBO
    assert np.all(np.abs(means[1] - elbo_mean) < 4 * np.hypot(ses[1], elbo_se) + 1e-3)


def test_test_metrics_report_elbo_and_iwae_nll(trained):
    vae, state, inputs, _, _, _ = trained
    vae = dataclasses.replace(vae, iwae_k=50)
    m = jax.jit(vae.test_metrics)(state, {"image": inputs}, jax.random.PRNGKey(0))
    assert set(m) == {"elbo", "nll_iwae_50"}
    assert np.isfinite(float(m["elbo"])) and np.isfinite(float(m["nll_iwae_50"]))
    assert float(m["nll_iwae_50"]) > 0  # a discrete likelihood: -log p > 0
    # binary inputs are not re-binarised: any key gives the same images to score
    a, _ = vae.prepare(inputs, jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(inputs))


def test_gaussian_likelihood_with_learned_scale_and_beta():
    x = jnp.asarray(tiny_images(8))
    vae = tiny_vae(likelihood="gaussian", gaussian_scale=None, beta=4.0)
    state = jax.jit(vae.init)(jax.random.PRNGKey(0), {"image": x})
    np.testing.assert_array_equal(np.asarray(state.params["log_scale"]), [0.0])
    inputs, targets = vae.prepare(x, jax.random.PRNGKey(0))
    np.testing.assert_array_equal(np.asarray(inputs), np.asarray(x))  # no binarisation
    new, m = jax.jit(vae.train_step)(state, {"image": x}, jax.random.PRNGKey(1))
    assert float(new.params["log_scale"][0]) != 0.0 and np.isfinite(float(m["loss"]))
    np.testing.assert_allclose(float(m["loss"]), float(m["recon"] + 4.0 * m["kl"]), rtol=1e-5)
    np.testing.assert_allclose(float(m["elbo"]), float(-m["recon"] - m["kl"]), rtol=1e-5)


def test_pmap_step_equals_the_single_device_step(trained):
    vae = trained[0]
    x = jnp.asarray(tiny_images(32))
    state = jax.jit(vae.init)(jax.random.PRNGKey(0), {"image": x})
    assert_pmap_step_equals_single(vae, state, {"image": x}, jax.random.PRNGKey(4))


@pytest.mark.parametrize("kw, message", [
    (dict(likelihood="poisson"), "unknown likelihood 'poisson'"),
    (dict(beta=-1.0), "beta must be >= 0"),
    (dict(iwae_k=0), "must be >= 1"),
    (dict(gaussian_scale=0.0), "gaussian_scale must be > 0"),
])
def test_bad_settings_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        tiny_vae(**kw)


def test_encoder_of_the_wrong_width_is_refused():
    vae = dataclasses.replace(tiny_vae(), encoder=Encoder(3, features=(4,), hidden=8))
    with pytest.raises(ValueError, match="needs 2 \\* latent_dim = 4"):
        jax.eval_shape(vae.init, jax.random.PRNGKey(0), {"image": jnp.asarray(tiny_images(2))})
