"""The EDM objective: the untrained (zero-output) model is the exact Gaussian denoiser; a tiny
model learns the ring; options, pmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.core.collectives import DATA_AXIS
from genjax.core.step import make_train_step
from genjax.data.toy2d import mixture, sample_mixture
from genjax.families.edm import EDM
from genjax.nn.mlp_denoiser import MLPDenoiser


def point_model(**kw) -> EDM:
    args = dict(model=MLPDenoiser(features=64, num_layers=3, input_features=32),
                optimizer=optax.adam(3e-3), data_shape=(2,), ema_decay=0.99, data_key="point",
                clip=False, sigma_data=0.7)
    return EDM(**{**args, **kw})


def test_zero_output_network_is_the_gaussian_denoiser_with_unit_loss():
    """MLPDenoiser's output layer starts at 0, so D(x; sigma) = c_skip x: the exact denoiser of
    N(0, sigma_data^2) data, whose EDM loss is lambda (c_out^2) = 1 at every sigma, and whose
    samples are N(0, sigma_data^2)."""
    sd = 0.7
    objective = point_model(sigma_data=sd)
    y = sd * jax.random.normal(jax.random.PRNGKey(0), (8192, 2))
    state = objective.init(jax.random.PRNGKey(1), {"point": y[:4]})
    d = objective.denoiser(state.ema_params)(y, jnp.full((8192,), 1.3))
    np.testing.assert_allclose(d, sd**2 / (sd**2 + 1.3**2) * y, rtol=1e-5, atol=1e-6)
    loss = float(objective.eval_metrics(state, {"point": y}, jax.random.PRNGKey(2))["loss"])
    assert abs(loss - 1.0) < 0.05, loss  # chi^2 over 16384 values: std ~0.011
    x = np.asarray(objective.sample(state, jax.random.PRNGKey(3), 8000, steps=64), np.float64)
    assert np.all(np.abs(x.mean(0)) < 5 * sd / np.sqrt(8000))
    assert np.all(np.abs(x.std(0) - sd) < 0.03)


def test_a_tiny_model_learns_the_ring():
    objective = point_model()
    points, _ = sample_mixture("toy2d_ring", 400 * 256, seed=0)
    batches = points.reshape(400, 256, 2)
    state = objective.init(jax.random.PRNGKey(0), {"point": batches[0]})
    step = make_train_step(objective, steps_per_call=1)
    losses = []
    for i in range(400):
        state, metrics = step(state, {"point": batches[i]}, jax.random.PRNGKey(1))
        losses.append(float(metrics["loss"]))
    assert np.mean(losses[-50:]) < 0.6 * np.mean(losses[:20])
    x = np.asarray(objective.sample(state, jax.random.PRNGKey(2), 1000), np.float64)
    means, std = mixture("toy2d_ring")
    dist = np.min(np.linalg.norm(x[:, None] - means[None], axis=-1), axis=1)
    nearest = np.argmin(np.linalg.norm(x[:, None] - means[None], axis=-1), axis=1)
    assert len(np.unique(nearest[dist < 0.1])) == 8  # every mode
    assert np.mean(dist < 0.1) > 0.5, np.mean(dist < 0.1)


def test_pmapped_step_equals_the_single_device_step():
    objective = point_model()
    batch = {"point": jnp.asarray(sample_mixture("toy2d_grid", 16, 0)[0])}
    state = objective.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    single, m1 = jax.jit(objective.train_step)(state, batch, key)
    rep = jax.tree.map(lambda x: jnp.stack([x] * 4), state)
    multi, m4 = jax.pmap(objective.train_step, axis_name=DATA_AXIS, devices=jax.devices()[:4],
                         in_axes=(0, 0, None))(rep, {"point": batch["point"].reshape(4, 4, 2)},
                                               key)
    np.testing.assert_allclose(np.mean(m4["loss"]), m1["loss"], rtol=1e-5)
    for a, b in zip(jax.tree.leaves(single.params), jax.tree.leaves(multi.params), strict=True):
        np.testing.assert_allclose(np.asarray(b)[0], a, rtol=1e-4, atol=1e-6)


def test_conditional_sampling_options_and_clear_errors():
    cond = point_model(model=MLPDenoiser(features=8, num_layers=1, num_classes=3),
                       num_classes=3, sample_steps=3)
    batch = {"point": jnp.ones((4, 2)), "label": jnp.array([0, 1, 2, 0])}
    state = cond.init(jax.random.PRNGKey(0), batch)
    state, _ = jax.jit(cond.train_step)(state, batch, jax.random.PRNGKey(1))
    key = jax.random.PRNGKey(2)
    out = cond.sample(state, key, 5, label=2, sampler="heun", steps=4, guidance=3.0)
    assert out.shape == (5, 2) and np.isfinite(out).all()
    euler = cond.sample(state, key, 5, label=2, sampler="euler", steps=4, guidance=3.0)
    churned = cond.sample(state, key, 5, label=2, steps=4, guidance=3.0, s_churn=10.0,
                          s_noise=1.007, s_min=0.01, s_max=50.0)
    assert not np.allclose(out, euler) and not np.allclose(out, churned)
    with pytest.raises(ValueError, match=r"label must be in \[0, 3\)"):
        cond.sample(state, key, 2, label=3)
    with pytest.raises(ValueError, match="unknown sampler 'rk4'"):
        cond.sample(state, key, 2, sampler="rk4")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        cond.sample(state, key, 2, steps=0)
    with pytest.raises(ValueError, match="S_noise"):
        cond.sample(state, key, 2, s_noise=0.0)
    with pytest.raises(ValueError, match="needs 'label'"):
        cond.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2))})
    uncond = point_model()
    ustate = uncond.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2))})
    with pytest.raises(ValueError, match="unconditional"):
        uncond.sample(ustate, key, 2, guidance=2.0)
    with pytest.raises(ValueError, match="sigma_data"):
        point_model(sigma_data=0.0)
