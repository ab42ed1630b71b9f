"""Progressive growing (schedule, exact resume mid-fade) and the conditional GAN's sampler."""

import json

import jax
import numpy as np
import optax
import pytest

from genjax.core.loop import LoopSettings, train
from genjax.core.objective import sample_options
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from genjax.nn.progressive import ProgressiveDiscriminator, ProgressiveGenerator
from genjax.objectives.gan import GAN, ConditionalGAN, GrowthSchedule, ProgressiveGAN
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


def tiny_progan() -> ProgressiveGAN:
    return ProgressiveGAN(
        generator=ProgressiveGenerator(features=(4, 4)),
        discriminator=ProgressiveDiscriminator(features=(4, 4)),
        latent_dim=3, g_optimizer=optax.adam(1e-3, b1=0.0), d_optimizer=optax.adam(1e-3, b1=0.0),
        ema_decay=0.5,
        schedule=GrowthSchedule(levels=2, stable_steps=1, fade_steps=2))


def test_progressive_resume_mid_fade_is_exact(tmp_path):
    """Stopped at step 2 (alpha 0.5 next), resumed to 4: bit-identical to a straight run."""
    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype(np.float32)

    def batches():
        return Batches(ArraySource({"image": images}), 4, 0)

    settings = dict(log_every=1, checkpoint_every=2, sample_every=0, num_samples=0)
    gan = tiny_progan()
    straight = train(gan, batches(), tmp_path / "a", LoopSettings(steps=4, **settings), seed=1)
    train(gan, batches(), tmp_path / "b", LoopSettings(steps=2, **settings), seed=1)
    resumed = train(gan, batches(), tmp_path / "b", LoopSettings(steps=4, **settings), seed=1)
    assert tree_equal(straight, resumed)
    records = [json.loads(line) for line in open(tmp_path / "b" / "metrics.jsonl")]
    assert [(r["step"], r["level"], r["alpha"]) for r in records] == [
        (1, 0.0, 1.0), (2, 1.0, 0.0), (3, 1.0, 0.5), (4, 1.0, 1.0)]
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
    assert "label" in sample_options(cgan) and "label" not in sample_options(
        GAN(MLP((4,), 2), MLP((4,), 1, squeeze=True), 2, optax.sgd(1.0), optax.sgd(1.0)))
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
