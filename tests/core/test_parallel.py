"""Data parallelism on the 8 fake CPU devices: pmap and sharded jit give single-device numbers.

Tolerance. The three modes run the same float32 program on the same global batch; they
differ only in the order of float32 sums: gradients and BatchNorm statistics are summed per
device and then across devices (pmap's pmean, or XLA's partitioned reductions under the
mesh) instead of in one pass. That changes results by a few float32 ulps (~1e-7 relative)
per reduction; Adam divides each gradient by its own running RMS, so a few steps of it keep
such differences at the ~1e-6 level of the parameters (updates are ~lr = 1e-3 here). After
4 steps we measure max |difference| 7e-8 .. 2e-7 (DCGAN) and ~1.7e-6 (classifier). We assert
rtol = atol = 2e-5: >10x above that, and far below a real mismatch (a wrong shard, a
missing pmean or one device's dropout gives differences of order lr = 1e-3 in one step).
"""

import dataclasses

import jax
import numpy as np
import optax
import pytest

from genjax.core.loop import LoopSettings, train
from genjax.core.parallel import (
    ParallelError,
    check_divisible,
    make_pmap_step,
    make_sharded_step,
)
from genjax.core.step import make_train_step
from genjax.data import Batches
from genjax.data.pipeline import ArraySource
from genjax.families.classifier.network import DigitClassifier
from genjax.families.classifier.objective import Classifier
from genjax.families.gan.dcgan import Discriminator, Generator
from genjax.families.gan.objective import GAN

TOL = dict(rtol=2e-5, atol=2e-5)
GLOBAL_BATCH = 16  # 2 examples per fake device
STEPS = 4  # even: the K=2 runs take the same batches


def tiny_dcgan() -> GAN:
    """8x8 DCGAN (one stage), BatchNorm everywhere, so pmap needs the global BN statistics."""
    return GAN(generator=Generator(features=(8,), channels=1, image_size=8),
               discriminator=Discriminator(features=(8,), image_size=8, channels=1),
               latent_dim=4, g_optimizer=optax.adam(1e-3, b1=0.5),
               d_optimizer=optax.adam(1e-3, b1=0.5))


def tiny_classifier() -> Classifier:
    """The digit classifier on 8x8 images, with dropout (drawn per example)."""
    return Classifier(module=DigitClassifier(num_classes=10, features=16, dropout=0.5),
                      optimizer=optax.adam(1e-3))


def images(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"image": rng.uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32),
            "label": rng.integers(0, 10, n).astype(np.int32)}


FAMILIES = {"dcgan": tiny_dcgan, "classifier": tiny_classifier}


def batches_for(name: str, steps: int) -> list[dict[str, np.ndarray]]:
    data = images(GLOBAL_BATCH * steps, seed=1)
    keys = ("image",) if name == "dcgan" else ("image", "label")
    return [{k: data[k][i * GLOBAL_BATCH:(i + 1) * GLOBAL_BATCH] for k in keys}
            for i in range(steps)]


def run(step, state, batches, k=1):
    metrics = []
    for i in range(0, len(batches), k):
        group = batches[i:i + k]
        batch = group[0] if k == 1 else {f: np.stack([b[f] for b in group]) for f in group[0]}
        state, m = step(state, batch, jax.random.PRNGKey(7))
        metrics.append(jax.device_get(m))
    return jax.device_get(state), metrics


def assert_trees_close(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), **TOL)


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def reference(request):
    """One-device run of STEPS steps: (family, initial state, batches, final state, metrics)."""
    name = request.param
    objective = FAMILIES[name]()
    batches = batches_for(name, STEPS)
    init = jax.device_get(jax.jit(objective.init)(jax.random.PRNGKey(0), batches[0]))
    final, metrics = run(make_train_step(objective), init, batches)
    return name, init, batches, final, metrics


@pytest.mark.parametrize("mode", ["pmap", "sharded"])
def test_data_parallel_steps_match_one_device(reference, mode):
    name, init, batches, final, metrics = reference
    objective = FAMILIES[name]()
    if mode == "pmap":
        step = make_pmap_step(objective)
    else:
        step = make_sharded_step(objective)
    state, got = step(init, batches[0], jax.random.PRNGKey(7))
    # the state comes back replicated over the 8 devices, with no leading device axis
    leaf = jax.tree.leaves(state.params)[0]
    assert leaf.shape == jax.tree.leaves(init.params)[0].shape
    assert leaf.sharding.is_fully_replicated and len(leaf.sharding.device_set) == 8
    state, rest = run(step, state, batches[1:])
    assert int(state.step) == STEPS
    assert_trees_close(state, final)
    for m_ref, m in zip(metrics, [jax.device_get(got)] + rest, strict=True):
        assert set(m) == set(m_ref)
        for k in m:
            assert np.shape(m[k]) == ()  # averaged over devices, not one value per device
            np.testing.assert_allclose(m[k], m_ref[k], **TOL)


@pytest.mark.parametrize("mode", ["pmap", "sharded"])  # one device: tests/core/test_step.py
def test_k_steps_per_call_in_every_mode(reference, mode):
    name, init, batches, final, _ = reference
    if name != "dcgan":
        pytest.skip("K steps per call are checked on one family (the scan is family-agnostic)")
    objective = FAMILIES[name]()
    factory = {"single": make_train_step, "pmap": make_pmap_step,
               "sharded": make_sharded_step}[mode]
    state, metrics = run(factory(objective, steps_per_call=2), init, batches, k=2)
    assert int(state.step) == STEPS
    assert all(np.shape(v) == (2,) for m in metrics for v in m.values())
    assert_trees_close(state, final)


def test_objectives_and_modules_carry_no_axis_name():
    """pmap needs nothing set on the objective: the step reads the bound axis itself."""
    gan, clf = tiny_dcgan(), tiny_classifier()
    for obj in (gan, gan.generator, gan.discriminator, clf, clf.module):
        assert "axis_name" not in {f.name for f in dataclasses.fields(obj)}


def test_a_batch_that_does_not_split_is_refused_with_the_fix():
    with pytest.raises(ParallelError, match="multiple of 8"):
        check_divisible(12, 8)
    with pytest.raises(ParallelError, match="global batch size 12 does not split over 8"):
        make_sharded_step(tiny_classifier())(None, images(12), jax.random.PRNGKey(0))


def _loop_batches():
    return Batches(ArraySource(images(64, seed=3)), GLOBAL_BATCH, seed=0)


def _settings(steps):
    return LoopSettings(steps=steps, log_every=2, checkpoint_every=2, sample_every=0,
                        num_samples=0, keep_checkpoints=5)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """4 uninterrupted loop steps on one device."""
    state = train(tiny_classifier(), _loop_batches(), tmp_path_factory.mktemp("straight"),
                  _settings(4), seed=1)
    return jax.device_get(state)


@pytest.mark.parametrize("first, then", [("pmap", "single"), ("single", "sharded")])
def test_checkpoints_resume_on_another_device_count(tmp_path, straight, first, then):
    """Save with 8 devices, resume on 1 (and the reverse): the run continues as if unbroken."""
    factories = {"single": make_train_step, "pmap": make_pmap_step,
                 "sharded": make_sharded_step}
    train(tiny_classifier(), _loop_batches(), tmp_path / "b", _settings(2), seed=1,
          make_step=factories[first])
    resumed = train(tiny_classifier(), _loop_batches(), tmp_path / "b", _settings(4), seed=1,
                    make_step=factories[then])
    assert int(resumed.step) == 4
    assert_trees_close(jax.device_get(resumed), straight)
