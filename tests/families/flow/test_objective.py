"""The FlowMatching objective: the loss against NumPy float64, time sampling, EMA, pmap,
a tiny flow that learns a 2D mixture, class conditioning with guidance, clear errors."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.core.collectives import DATA_AXIS
from genjax.core.state import HeldParams
from genjax.core.step import make_train_step
from genjax.data.toy2d import mixture, sample_mixture
from genjax.families.flow import FlowMatching, Reflow, flow_matching_loss, ot_path
from genjax.families.flow.objective import sample_times
from genjax.nn.mlp_denoiser import MLPDenoiser
from tests.helpers import tree_equal


class ToyVelocity(nn.Module):
    """v(x, tau) = tanh(x W + b) + (tau / 1000) c: a fixed, known function of its params."""

    @nn.compact
    def __call__(self, x, t, label=None, train=False):
        d = x.shape[-1]
        w = self.param("w", nn.initializers.normal(1.0), (d, d))
        b = self.param("b", nn.initializers.normal(1.0), (d,))
        c = self.param("c", nn.initializers.normal(1.0), (d,))
        return jnp.tanh(x @ w + b) + (t / 1000.0)[:, None] * c


def point_model(**kw) -> FlowMatching:
    args = dict(model=MLPDenoiser(features=64, num_layers=3, input_features=32),
                optimizer=optax.adam(3e-3), data_shape=(2,), ema_decay=0.99, data_key="point",
                clip=False, solver="heun", sample_steps=20)
    return FlowMatching(**{**args, **kw})


def numpy_loss(w, b, c, x1, x0, t):
    """float64 ``mean over examples and dims of (v(x_t, t) - (x1 - x0))^2``."""
    w, b, c, x1, x0, t = (np.asarray(a, np.float64) for a in (w, b, c, x1, x0, t))
    xt = (1.0 - t[:, None]) * x0 + t[:, None] * x1
    v = np.tanh(xt @ w + b) + t[:, None] * c  # the network sees 1000 t
    sq_norm = ((v - (x1 - x0)) ** 2).sum(axis=1)  # ||v - u||^2 per example
    return sq_norm.mean() / x1.shape[1]


def test_ot_path_and_its_velocity():
    x0, x1 = jnp.array([[0.0, 2.0]]), jnp.array([[4.0, -2.0]])
    xt, u = ot_path(x0, x1, jnp.array([0.25]))
    np.testing.assert_allclose(xt, [[1.0, 1.0]])
    np.testing.assert_allclose(u, [[4.0, -4.0]])
    np.testing.assert_allclose(ot_path(x0, x1, jnp.zeros(1))[0], x0)
    np.testing.assert_allclose(ot_path(x0, x1, jnp.ones(1))[0], x1)


def test_loss_equals_a_float64_numpy_computation():
    rng = np.random.default_rng(0)
    x1, x0 = rng.normal(size=(2, 16, 3)).astype(np.float32)
    t = rng.uniform(size=16).astype(np.float32)
    objective = FlowMatching(model=ToyVelocity(), optimizer=optax.sgd(0.1), data_shape=(3,),
                             data_key="point", clip=False)
    state = objective.init(jax.random.PRNGKey(0), {"point": x1})
    p = state.params

    def v(xt, ts):  # the objective's own network call (it scales t by time_scale = 1000)
        return objective._apply(p, xt, ts, None, train=False)

    got = float(flow_matching_loss(v, jnp.asarray(x1), jnp.asarray(x0), jnp.asarray(t)))
    want = numpy_loss(p["w"], p["b"], p["c"], x1, x0, t)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # eval_metrics: the same number with the times and noise its key draws
    key = jax.random.PRNGKey(5)
    t_k, x0_k = objective._draw(key, jnp.asarray(x1))
    m = objective.eval_metrics(state, {"point": x1}, key)
    np.testing.assert_allclose(float(m["loss"]), numpy_loss(p["w"], p["b"], p["c"], x1, x0_k,
                                                            t_k), rtol=1e-5)


def test_uniform_and_logit_normal_times():
    u = np.asarray(sample_times(jax.random.PRNGKey(0), 20_000, "uniform"))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.003
    ln = np.asarray(sample_times(jax.random.PRNGKey(0), 20_000, "logit_normal", 0.5, 0.8),
                    np.float64)
    logit = np.log(ln / (1 - ln))
    assert abs(logit.mean() - 0.5) < 0.03 and abs(logit.std() - 0.8) < 0.03


def test_ema_starts_at_the_init_and_follows_with_warmup():
    objective = point_model(ema_decay=0.5)
    batch = {"point": jnp.ones((8, 2))}
    state = objective.init(jax.random.PRNGKey(0), batch)
    assert tree_equal(state.ema_params, state.params)
    new, _ = jax.jit(objective.train_step)(state, batch, jax.random.PRNGKey(1))
    decay = min(0.5, 1 / 10)  # step 0: min(decay, (1 + 0) / (10 + 0))
    expected = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, state.params, new.params)
    for a, b in zip(jax.tree.leaves(new.ema_params), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("time_sampling", ["uniform", "logit_normal"])
def test_pmapped_step_equals_the_single_device_step(time_sampling):
    objective = point_model(time_sampling=time_sampling,
                            model=MLPDenoiser(features=16, num_layers=2, num_classes=8),
                            num_classes=8, label_dropout=0.3)
    points, labels = sample_mixture("toy2d_ring", 16, 0)
    batch = {"point": jnp.asarray(points), "label": jnp.asarray(labels)}
    state = objective.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    single, m1 = jax.jit(objective.train_step)(state, batch, key)
    rep = jax.tree.map(lambda x: jnp.stack([x] * 4), state)
    shards = jax.tree.map(lambda x: x.reshape(4, 4, *x.shape[1:]), batch)
    multi, m4 = jax.pmap(objective.train_step, axis_name=DATA_AXIS, devices=jax.devices()[:4],
                         in_axes=(0, 0, None))(rep, shards, key)
    np.testing.assert_allclose(np.mean(m4["loss"]), m1["loss"], rtol=1e-5)
    for a, b in zip(jax.tree.leaves(single.params), jax.tree.leaves(multi.params), strict=True):
        np.testing.assert_allclose(np.asarray(b)[0], a, rtol=1e-4, atol=1e-6)


def train(objective, name, steps=300, batch=256, conditional=False):
    points, labels = sample_mixture(name, steps * batch, seed=0)
    points, labels = points.reshape(steps, batch, 2), labels.reshape(steps, batch)

    def make(i):
        out = {"point": points[i]}
        if conditional:
            out["label"] = labels[i]
        return out

    state = objective.init(jax.random.PRNGKey(0), make(0))
    step = make_train_step(objective, steps_per_call=1)
    losses = []
    for i in range(steps):
        state, metrics = step(state, make(i), jax.random.PRNGKey(1))
        losses.append(float(metrics["loss"]))
    return state, np.asarray(losses)


def nearest_mode(points, name):
    means, _ = mixture(name)
    dist = np.sqrt(((np.asarray(points, np.float64)[:, None] - means[None]) ** 2).sum(-1))
    return dist.min(1), dist.argmin(1)


@pytest.fixture(scope="module")
def trained_ring():
    objective = point_model()
    state, losses = train(objective, "toy2d_ring")
    return objective, state, losses


def test_a_tiny_flow_moves_noise_onto_the_ring_modes(trained_ring):
    objective, state, losses = trained_ring
    assert losses[-50:].mean() < 0.7 * losses[:10].mean()
    key = jax.random.PRNGKey(2)
    noise = jax.random.normal(key, (2000, 2))  # sample() starts from exactly this noise
    d_noise, _ = nearest_mode(noise, "toy2d_ring")
    for solver, steps in (("euler", 40), ("heun", 20), ("rk4", 10)):
        samples = objective.sample(state, key, 2000, solver=solver, steps=steps)
        d, mode = nearest_mode(samples, "toy2d_ring")
        # measured: mean distance 0.62 for the noise; 0.079 (euler 40), 0.080 (heun 20),
        # 0.074 (rk4 10) for the samples, 62-66% of them within 0.05 of a mode
        assert d.mean() < 0.2 * d_noise.mean(), (solver, d.mean(), d_noise.mean())
        assert len(np.unique(mode[d < 0.1])) == 8, solver  # every mode visited


@pytest.mark.parametrize("pairs", [0, 8192])
def test_reflow_straightens_the_paths_for_one_step_sampling(trained_ring, pairs):
    teacher, tstate, _ = trained_ring
    fields = {f.name: getattr(teacher, f.name) for f in dataclasses.fields(teacher)}
    student = Reflow(**{**fields, "optimizer": optax.adam(1e-3),
                        "teacher": HeldParams(tstate.ema_params), "teacher_solver": "rk4",
                        "teacher_steps": 8, "pairs": pairs})
    state, losses = train(student, "toy2d_ring", steps=150)
    # the student starts at the teacher; its loss on the teacher's deterministic pairs falls
    # towards 0 as the paths straighten (measured 0.13 -> 0.014)
    assert losses[-20:].mean() < 0.3 * losses[:10].mean(), losses
    assert tree_equal(state.model_state["teacher"], tstate.ema_params)  # frozen
    key = jax.random.PRNGKey(7)
    reference = np.asarray(teacher.sample(tstate, key, 2000, solver="rk4", steps=32))
    one_step = {}
    for name, objective, st in (("teacher", teacher, tstate), ("reflow", student, state)):
        x = np.asarray(objective.sample(st, key, 2000, solver="euler", steps=1))
        d, mode = nearest_mode(x, "toy2d_ring")
        one_step[name] = (d.mean(), np.linalg.norm(x - reference, axis=1).mean(),
                          len(np.unique(mode[d < 0.1])))
    # measured (1 Euler step): mean distance to the nearest mode 0.88 (teacher) vs 0.22
    # (reflow); to the teacher's 32-step RK4 sample from the same noise 0.98 vs 0.18; modes
    # within 0.1: 2 vs 8
    assert one_step["reflow"][0] < 0.4 * one_step["teacher"][0], one_step
    assert one_step["reflow"][1] < 0.3 * one_step["teacher"][1], one_step
    assert one_step["reflow"][2] == 8, one_step


def numpy_euler(w, b, c, x0, steps):
    """float64 Euler solve of ``dx/dt = tanh(x W + b) + t c`` (ToyVelocity) from 0 to 1."""
    x = np.asarray(x0, np.float64)
    w, b, c = (np.asarray(a, np.float64) for a in (w, b, c))
    for k in range(steps):
        x = x + (np.tanh(x @ w + b) + (k / steps) * c) / steps
    return x


def toy_reflow(pairs, **kw):
    teacher = FlowMatching(model=ToyVelocity(), optimizer=optax.sgd(0.1), data_shape=(3,),
                           data_key="point", clip=False)
    t_params = teacher.init(jax.random.PRNGKey(3), {"point": jnp.zeros((4, 3))}).params
    fields = {f.name: getattr(teacher, f.name) for f in dataclasses.fields(teacher)}
    return t_params, Reflow(**{**fields, "teacher": HeldParams(t_params),
                               "teacher_solver": "euler", "teacher_steps": 5, "pairs": pairs,
                               **kw})


def test_reflow_pool_holds_the_teachers_solutions_and_steps_train_on_its_rows():
    t_params, student = toy_reflow(pairs=37)  # 37: not a multiple of the 8-row chunks
    batch = {"point": jnp.zeros((8, 3))}
    state = student.init(jax.random.PRNGKey(0), batch)
    pool = {k: np.asarray(v) for k, v in state.model_state["pairs"].items()}
    assert pool["x0"].shape == pool["x1"].shape == (37, 3)
    np.testing.assert_allclose(pool["x1"], numpy_euler(t_params["w"], t_params["b"],
                                                       t_params["c"], pool["x0"], 5),
                               rtol=1e-5, atol=1e-5)
    assert len(np.unique(pool["x0"][:, 0])) == 37
    # a step's pairs are pool rows (the batch's data is not used), with the times _draw gives
    t, x0, x1 = (np.asarray(a) for a in student._coupling(state, batch["point"], None,
                                                          jax.random.PRNGKey(4)))
    rows = [int(np.argmin(np.abs(pool["x0"] - r).sum(1))) for r in x0]
    np.testing.assert_array_equal(pool["x0"][rows], x0)
    np.testing.assert_array_equal(pool["x1"][rows], x1)
    assert t.shape == (8,) and 0 <= t.min() and t.max() < 1
    # the step's loss is the flow-matching loss of the student on exactly those rows
    p = state.params
    m = student.eval_metrics(state, batch, jax.random.PRNGKey(4))
    np.testing.assert_allclose(float(m["loss"]), numpy_loss(p["w"], p["b"], p["c"], x1, x0, t),
                               rtol=1e-5)
    new, _ = jax.jit(student.train_step)(state, batch, jax.random.PRNGKey(5))
    assert tree_equal(new.model_state["pairs"], state.model_state["pairs"])  # fixed pool
    assert not tree_equal(new.params, state.params)
    # online pairs (pairs=0): no pool in the state
    assert "pairs" not in toy_reflow(pairs=0)[1].init(jax.random.PRNGKey(0), batch).model_state


def test_reflow_pool_refuses_bad_sizes_and_conditional_teachers():
    with pytest.raises(ValueError, match="reflow.pairs must be >= 0"):
        toy_reflow(pairs=-1)
    with pytest.raises(ValueError, match="needs an unconditional teacher"):
        toy_reflow(pairs=16, num_classes=4)


def test_conditional_flow_samples_the_requested_mode_and_guidance_runs():
    objective = point_model(model=MLPDenoiser(features=64, num_layers=3, input_features=32,
                                              num_classes=8),
                            num_classes=8, label_dropout=0.2)
    state, _ = train(objective, "toy2d_ring", steps=200, conditional=True)
    means, _ = mixture("toy2d_ring")
    for guidance in (1.0, 3.0):
        for label in (0, 5):
            samples = objective.sample(state, jax.random.PRNGKey(3), 500, label=label,
                                       guidance=guidance)
            assert samples.shape == (500, 2) and np.isfinite(samples).all()
            _, mode = nearest_mode(samples, "toy2d_ring")
            # measured: 99.2-99.8% (guidance 1) and 100% (guidance 3) at the requested mode
            assert (mode == label).mean() > 0.9, (label, guidance, (mode == label).mean())
    cycled = objective.sample(state, jax.random.PRNGKey(3), 16, solver="euler", steps=20)
    _, mode = nearest_mode(cycled, "toy2d_ring")
    # no label: sample i gets class i % 8 (measured: all 16 at their class's mode)
    assert (mode == np.arange(16) % 8).mean() > 0.8
    unguided = objective.sample(state, jax.random.PRNGKey(3), 500, label=0, guidance=0.0)
    assert np.isfinite(unguided).all()


def test_images_are_clipped_and_options_are_checked():
    class Big(nn.Module):
        @nn.compact
        def __call__(self, x, t, label=None, train=False):
            return 10.0 + 0.0 * self.param("s", nn.initializers.zeros, ()) * x

    images = FlowMatching(model=Big(), optimizer=optax.sgd(0.1), data_shape=(4, 4, 1),
                          solver="euler", sample_steps=2)
    state = images.init(jax.random.PRNGKey(0), {"image": jnp.zeros((2, 4, 4, 1))})
    out = images.sample(state, jax.random.PRNGKey(1), 3)
    assert out.shape == (3, 4, 4, 1) and float(out.min()) == 1.0  # x0 + 10 clipped to 1
    with pytest.raises(ValueError, match="unconditional"):
        images.sample(state, jax.random.PRNGKey(1), 2, label=1)
    with pytest.raises(ValueError, match="unconditional"):
        images.sample(state, jax.random.PRNGKey(1), 2, guidance=2.0)
    with pytest.raises(ValueError, match="unknown solver 'rk45'"):
        images.sample(state, jax.random.PRNGKey(1), 2, solver="rk45")
    with pytest.raises(ValueError, match="--steps must be >= 1"):
        images.sample(state, jax.random.PRNGKey(1), 2, steps=0)
    cond = point_model(model=MLPDenoiser(features=8, num_layers=1, num_classes=3), num_classes=3)
    with pytest.raises(ValueError, match="needs 'label'"):
        cond.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2))})
    cstate = cond.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2)),
                                               "label": jnp.zeros(4, jnp.int32)})
    with pytest.raises(ValueError, match=r"label must be in \[0, 3\)"):
        cond.sample(cstate, jax.random.PRNGKey(2), 2, label=3)
    for bad, match in ((dict(time_sampling="beta"), "unknown time_sampling"),
                       (dict(logit_std=0.0), "logit_std"), (dict(solver="ddim"), "solver"),
                       (dict(sample_steps=0), "steps"), (dict(ema_decay=1.0), "ema_decay")):
        with pytest.raises(ValueError, match=match):
            point_model(**bad)
