"""genjax.Model's family extras: latents / decode / interpolate (GANs, VAEs, AAEs), encode
(autoencoders), log_prob (VAE: the IWAE bound; flow: the ODE log-likelihood), declared in the
objectives' capabilities and refused with the family's name and offers elsewhere."""

import jax
import numpy as np
import pytest

import genjax
from genjax.api import slerp
from genjax.app.experiment import load_run
from genjax.core.objective import Capabilities
from genjax.families import families

FAMILIES = families()


def tiny(name: str, workdir, steps: int, model=None, **train):
    config = FAMILIES[name].smallest({})
    config.model.update(model or {})
    config.train.update({"steps": steps, "log_every": steps, "checkpoint_every": steps,
                         "sample_every": 0, "eval_every": 0, "num_samples": 0, **train})
    return genjax.train(config, workdir)


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    """A tiny VAE on the 8x8 digits, trained briefly, and a batch of its training images
    (Gaussian likelihood: a Bernoulli one this small and brief collapses to the prior)."""
    run = tmp_path_factory.mktemp("vae") / "run"
    model = tiny("vae", run, 150, model={"likelihood": "gaussian"})
    _, experiment, state = load_run(run)
    images = np.asarray(experiment.train_batches.batch(0)["image"])
    return model, experiment.objective, state, images


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    return tiny("gan", tmp_path_factory.mktemp("gan") / "run", 2)


def test_slerp_matches_the_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=5), rng.normal(size=5)
    b *= np.linalg.norm(a) / np.linalg.norm(b)  # equal norms: the walk stays on the sphere
    t = np.linspace(0, 1, 7)
    out = slerp(a, b, t).astype(np.float64)
    omega = np.arccos(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    np.testing.assert_array_equal(out[0], a.astype(np.float32))
    np.testing.assert_array_equal(out[-1], b.astype(np.float32))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(a), rtol=1e-6)
    angles = np.arccos(np.clip(out @ a / (np.linalg.norm(out, axis=1) * np.linalg.norm(a)),
                               -1, 1))
    np.testing.assert_allclose(angles, t * omega, atol=1e-5)  # evenly spaced angles
    # the midpoint: (a + b) / (2 cos(omega / 2))
    np.testing.assert_allclose(out[3], (a + b) / (2 * np.cos(omega / 2)), rtol=1e-5)
    # parallel vectors: the linear walk
    np.testing.assert_allclose(slerp(a, 2 * a, [0.5])[0], 1.5 * a, rtol=1e-6)


@pytest.mark.parametrize("fixture", ["vae", "gan"])
def test_latents_are_what_sample_decodes_and_walks_end_at_the_samples(fixture, request):
    model = request.getfixturevalue(fixture)
    model = model[0] if isinstance(model, tuple) else model
    z = model.latents(300, seed=1)  # crosses sample's 256-row chunks
    assert z.shape[0] == 300
    np.testing.assert_allclose(model.decode(z), model.sample(300, seed=1), atol=1e-5)
    walk = model.interpolate(3, 7, steps=5)
    assert walk.shape == (5,) + model.sample(1).shape[1:]
    np.testing.assert_allclose(walk[0], model.sample(1, seed=3)[0], atol=1e-5)
    np.testing.assert_allclose(walk[-1], model.sample(1, seed=7)[0], atol=1e-5)
    za, zb = model.latents(1, seed=3)[0].astype(np.float64), model.latents(1, seed=7)[0]
    omega = np.arccos(za @ zb / (np.linalg.norm(za) * np.linalg.norm(zb)))
    middle = (za + zb) / (2 * np.cos(omega / 2))
    np.testing.assert_allclose(walk[2], model.decode(middle[None])[0], atol=1e-5)
    with pytest.raises(ValueError, match="steps must be >= 2"):
        model.interpolate(0, 1, steps=1)
    with pytest.raises(ValueError, match="latents must be"):
        model.decode(np.zeros((2, z.shape[1] + 1)))


def test_vae_encode_decode_round_trip_beats_random_codes(vae):
    model, _, _, images = vae
    z = model.encode(images, seed=2)
    assert z.shape == (images.shape[0], model.config["model"]["latent_dim"])
    recon = model.decode(z)
    assert recon.shape == images.shape
    np.testing.assert_allclose(recon, model.reconstruct(images, seed=2), atol=1e-5)
    err = np.mean((recon - images) ** 2)
    random_err = np.mean((model.decode(model.latents(len(images), seed=9)) - images) ** 2)
    assert err < 0.8 * random_err, (err, random_err)


def test_vae_log_prob_is_the_objectives_iwae_number(vae):
    model, objective, state, images = vae
    k = objective.iwae_k
    logp = model.log_prob(images, seed=4, k=k)
    assert logp.shape == (images.shape[0],) and np.all(np.isfinite(logp))
    reported = objective.test_metrics(state, {"image": images}, jax.random.PRNGKey(4))
    np.testing.assert_allclose(-logp.mean(), float(reported[f"nll_iwae_{k}"]), rtol=1e-5)
    assert "IWAE" in model.log_prob_about
    with pytest.raises(TypeError, match="log_prob does not take steps; it takes k"):
        model.log_prob(images, steps=3)


def test_flow_log_prob_is_its_test_nll(tmp_path):
    run = tmp_path / "flow"
    model = tiny("flow", run, 2)
    _, experiment, state = load_run(run)
    points = np.asarray(experiment.train_batches.batch(0)["point"])
    logp = model.log_prob(points, seed=5)
    reported = experiment.objective.test_metrics(state, {"point": points},
                                                 jax.random.PRNGKey(5))
    np.testing.assert_allclose(-logp.mean(), float(reported["nll"]), rtol=1e-5)
    with pytest.raises(ValueError, match="a 'flow' model has no latent space to interpolate; "
                                         "it offers sample, log_prob"):
        model.interpolate(0, 1)


def test_exported_models_keep_their_extras(vae, tmp_path):
    model, _, _, images = vae
    exported = genjax.load(model.export(tmp_path / "vae.genjax"))
    np.testing.assert_array_equal(exported.interpolate(1, 2, 4), model.interpolate(1, 2, 4))
    np.testing.assert_array_equal(exported.encode(images), model.encode(images))
    np.testing.assert_allclose(exported.log_prob(images, k=4), model.log_prob(images, k=4),
                               rtol=1e-6)


def test_missing_extras_name_the_family_and_its_offers(gan, tmp_path):
    with pytest.raises(ValueError, match="a 'gan' model has no encoder; it offers sample, "
                                         "latents, decode, interpolate$"):
        gan.encode(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="a 'gan' model has no likelihood"):
        gan.log_prob(np.zeros((2, 2), np.float32))
    dae = tiny("dae", tmp_path / "dae", 1)
    with pytest.raises(ValueError, match="a 'dae' model has no latent space; it offers sample, "
                                         "reconstruct$"):
        dae.decode(np.zeros((1, 4)))


def test_capabilities_refuse_inconsistent_declarations():
    with pytest.raises(ValueError, match="encode needs latents"):
        Capabilities(encode=True)
    with pytest.raises(ValueError, match="say what log_prob returns"):
        Capabilities(log_prob=True)
    with pytest.raises(ValueError, match="log_prob_options need log_prob"):
        from genjax.core.objective import SampleOption

        Capabilities(log_prob_options=(SampleOption("k", int, "k"),))
