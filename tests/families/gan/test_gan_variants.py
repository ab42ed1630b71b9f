"""Progressive growing (schedule, exact resume mid-fade) and the conditional GAN's sampler."""

import jax
import numpy as np
import optax
import pytest

from genjax.core.checkpoint import Checkpointer
from genjax.core.step import make_train_step
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from genjax.families.gan.objective import GAN, ConditionalGAN, GrowthSchedule, ProgressiveGAN
from genjax.families.gan.progressive import ProgressiveDiscriminator, ProgressiveGenerator
from tests.helpers import MLP, tree_equal


@pytest.mark.parametrize("step, level, alpha", [
    (0, 0, 1.0), (99, 0, 1.0), (100, 1, 0.0), (125, 1, 0.5), (149, 1, 0.98), (150, 1, 1.0),
    (249, 1, 1.0), (250, 2, 0.0), (290, 2, 0.8), (400, 3, 0.0), (450, 3, 1.0), (10**6, 3, 1.0),
])
def test_growth_schedule(step, level, alpha):
    """100 stable steps at 4x4, then per level 50 fade + 100 stable steps."""
    got_level, got_alpha = GrowthSchedule(levels=4, stable_steps=100, fade_steps=50)(step)
    assert int(got_level) == level
    np.testing.assert_allclose(float(got_alpha), alpha, atol=1e-6)


def tiny_progan(select_branches: bool | None = None) -> ProgressiveGAN:
    return ProgressiveGAN(
        generator=ProgressiveGenerator(features=(4, 4)),
        discriminator=ProgressiveDiscriminator(features=(4, 4)),
        latent_dim=3, g_optimizer=optax.adam(1e-3, b1=0.0), d_optimizer=optax.adam(1e-3, b1=0.0),
        ema_decay=0.5,
        schedule=GrowthSchedule(levels=2, stable_steps=1, fade_steps=2),
        select_branches=select_branches)


@pytest.mark.parametrize("step", [0, 2, 3])  # level 0; level 1 mid-fade; level 1 grown
def test_selecting_branches_equals_lax_switch(step):
    """The CPU path (every level runs, the current one is selected) gives the switch's
    state, metrics and samples."""
    images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 1)).astype(np.float32)
    batch = {"image": images}
    outs = []
    for select in (True, False):
        gan = tiny_progan(select)
        state = gan.init(jax.random.PRNGKey(0), batch)
        state = state.replace(step=jax.numpy.asarray(step, state.step.dtype))
        new, metrics = jax.jit(gan.train_step)(state, batch, jax.random.PRNGKey(1))
        samples = jax.jit(gan.sample, static_argnums=2)(new, jax.random.PRNGKey(2), 3)
        outs.append((new, metrics, samples))
    for a, b in zip(jax.tree.leaves(outs[0]), jax.tree.leaves(outs[1]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_progressive_resume_mid_fade_is_exact(tmp_path):
    """Checkpointed at step 2 (mid-fade: alpha 0.5 next) and restored into a fresh template,
    two more steps give bit-identical state to four straight steps: the phase comes from
    the checkpoint's step alone."""
    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype(np.float32)
    batches = Batches(ArraySource({"image": images}), 4, 0)
    gan = tiny_progan()
    step = make_train_step(gan, donate=False)
    base_key = jax.random.PRNGKey(1)
    template = gan.init(jax.random.PRNGKey(0), batches.batch(0))

    def run(state, start, stop):
        trace = []
        for i in range(start, stop):
            state, metrics = step(state, batches.batch(i), base_key)
            trace.append((float(metrics["level"]), float(metrics["alpha"])))
        return state, trace

    straight, trace = run(template, 0, 4)
    assert trace == [(0.0, 1.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0)]
    half, _ = run(template, 0, 2)
    with Checkpointer(tmp_path / "ckpt", async_save=False) as ckpt:
        ckpt.save(half, {"data_position": 2})
        restored, _ = ckpt.restore_latest(gan.init(jax.random.PRNGKey(0), batches.batch(0)))
    assert int(restored.step) == 2
    resumed, _ = run(restored, 2, 4)
    assert tree_equal(straight, resumed)
    assert gan.sample(resumed, jax.random.PRNGKey(0), 3).shape == (3, 8, 8, 1)


class LabelMLP(MLP):
    """An MLP that takes labels (appended as a one-hot) so conditioning is testable cheaply."""

    def __call__(self, x, train, labels=None):
        return super().__call__(
            jax.numpy.concatenate(
                [x, jax.nn.one_hot(labels, 3)], axis=1), train)


def test_conditional_gan_samples_the_requested_label():
    cgan = ConditionalGAN(
        generator=LabelMLP((8,), 2), discriminator=LabelMLP((8,), 1, squeeze=True),
        latent_dim=2, g_optimizer=optax.adam(1e-3), d_optimizer=optax.adam(1e-3),
        num_classes=3, data_key="point")
    batch = {"point": np.zeros((6, 2), np.float32), "label": np.array([0, 1, 2, 0, 1, 2])}
    state = cgan.init(jax.random.PRNGKey(0), batch)
    state, metrics = cgan.train_step(state, batch, jax.random.PRNGKey(1))
    assert np.isfinite(float(metrics["d_loss"]))
    assert "label" in cgan.capabilities.option_names() and "label" not in GAN(
        MLP((4,), 2), MLP((4,), 1, squeeze=True), 2, optax.sgd(1.0),
        optax.sgd(1.0)).capabilities.option_names()
    key = jax.random.PRNGKey(2)
    # the same latents under labels 0, 1, 2 give different points; label=None cycles 0, 1, 2
    by_label = [np.asarray(cgan.sample(state, key, 3, label=k)) for k in range(3)]
    cycled = np.asarray(cgan.sample(state, key, 3))
    for k in range(3):
        np.testing.assert_allclose(cycled[k], by_label[k][k], rtol=1e-6)
    assert not np.allclose(by_label[0], by_label[1])
    with pytest.raises(ValueError, match="label must be in 0..2"):
        cgan.sample(state, key, 3, label=3)
    with pytest.raises(ValueError, match="'label' field"):
        cgan.init(jax.random.PRNGKey(0), {"point": batch["point"]})
