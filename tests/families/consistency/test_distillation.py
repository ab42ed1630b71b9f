"""Consistency distillation: the teacher's Heun step against the closed-form probability-flow
ODE of Gaussian data (2nd order), the pair it builds against iCT's where both must agree, the
teacher copied into the state, and a distilled student against an exact teacher."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.core.state import HeldParams
from genjax.core.step import make_train_step
from genjax.families.consistency import ConsistencyDistillation, ConsistencyModel
from genjax.families.consistency.training import heun_toward
from genjax.nn.mlp_denoiser import MLPDenoiser

SD = 0.5  # data ~ N(0, SD^2 I): D(x; s) = SD^2 / (SD^2 + s^2) x


def gaussian_denoiser(x, sigma):
    s2 = jnp.reshape(sigma, sigma.shape + (1,) * (x.ndim - 1)) ** 2
    return SD ** 2 / (SD ** 2 + s2) * x


def exact_flow(x, s_from, s_to):
    """The PF-ODE of N(0, SD^2): x(s) = x(s0) sqrt((SD^2 + s^2) / (SD^2 + s0^2))."""
    return x * np.sqrt((SD ** 2 + s_to ** 2) / (SD ** 2 + s_from ** 2))[:, None]


def test_heun_step_is_second_order_on_the_gaussian_ode():
    with jax.enable_x64(True):
        x = np.random.default_rng(0).normal(size=(16, 3)) * 2.0
        s_from = np.full(16, 2.0)
        errors = []
        for h in (0.2, 0.1, 0.05):
            got = np.asarray(heun_toward(gaussian_denoiser, jnp.asarray(x), jnp.asarray(s_from),
                                         jnp.asarray(s_from - h)))
            assert got.dtype == np.float64
            errors.append(np.abs(got - exact_flow(x, s_from, s_from - h)).max())
        # local error O(h^3): halving h divides it by ~8 (Euler's O(h^2) would give ~4)
        ratios = errors[0] / errors[1], errors[1] / errors[2]
        assert all(7.0 < r < 10.0 for r in ratios), (errors, ratios)


def objective(cls=ConsistencyDistillation, **kw):
    net = MLPDenoiser(features=32, num_layers=2, input_features=16)
    args = dict(model=net, optimizer=optax.adam(1e-3), data_shape=(2,), data_key="point",
                clip=False, sigma_data=SD, total_steps=200, s0=8, s1=8, sigma_max=20.0)
    if cls is ConsistencyDistillation:
        params = net.init(jax.random.PRNGKey(7), jnp.zeros((1, 2)), jnp.zeros((1,)),
                          None)["params"]
        args.update(teacher=HeldParams(params), teacher_denoiser=lambda p, label: point)
    return cls(**{**args, **kw})


def point(x, sigma):
    """The exact denoiser of data concentrated at one point, Y0."""
    return jnp.broadcast_to(Y0, x.shape).astype(x.dtype)


Y0 = jnp.array([0.3, -0.4])


def test_pair_equals_icts_where_the_teacher_ode_is_a_straight_line():
    """Data at one point y0 with its exact denoiser: the PF-ODE from y0 + s' z is the line
    y0 + s z, on which Heun is exact, so the distillation target's input is iCT's."""
    cd, ict = objective(), objective(ConsistencyModel)
    y = jnp.broadcast_to(Y0, (5, 2))
    z = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    s_next, s_cur = jnp.array([20.0, 3.0, 1.0, 0.1, 0.01]), jnp.array([9.0, 2.0, 0.5, 0.05,
                                                                         0.002])
    x_next = y + s_next[:, None] * z
    state = cd.init(jax.random.PRNGKey(1), {"point": np.asarray(y)})
    got = cd._target_input(state.model_state, y, z, x_next, s_next, s_cur, None)
    want = ict._target_input(None, y, z, x_next, s_next, s_cur, None)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_teacher_is_held_in_the_state_and_the_student_starts_from_it():
    cd = objective()
    state = cd.init(jax.random.PRNGKey(0), {"point": np.zeros((4, 2), np.float32)})
    teacher = cd.teacher.tree
    for a, b, c in zip(jax.tree.leaves(state.params), jax.tree.leaves(teacher),
                       jax.tree.leaves(state.model_state["teacher"]), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(c, b)
    fresh = objective(init_from_teacher=False).init(jax.random.PRNGKey(0),
                                                    {"point": np.zeros((4, 2), np.float32)})
    assert any(not np.array_equal(a, b) for a, b in zip(
        jax.tree.leaves(fresh.params), jax.tree.leaves(teacher), strict=True))
    wide = MLPDenoiser(features=8, num_layers=2, input_features=16)
    with pytest.raises(ValueError, match="do not fit this network"):
        objective(model=wide).init(jax.random.PRNGKey(0), {"point": np.zeros((4, 2))})
    with pytest.raises(ValueError, match="needs a teacher"):
        objective(teacher=None)


def test_a_student_distilled_from_the_exact_gaussian_teacher_maps_noise_to_the_data():
    """Teacher: the exact denoiser of N(0, SD^2 I) in 2D. Its ODE map from sigma_max sends
    x to x sqrt(SD^2 + sigma_min^2) / sqrt(SD^2 + sigma_max^2) ~ x * SD / sigma_max, so the
    ideal 1-step sampler gives N(0, SD^2): 400 distillation steps bring the samples' std
    from the untrained student's (far off) to within 25% of SD."""
    cd = objective(teacher_denoiser=lambda p, label: gaussian_denoiser, total_steps=400,
                   s0=12, s1=12, ema_decay=0.95, init_from_teacher=False)
    data = np.random.default_rng(0).normal(size=(400, 128, 2)).astype(np.float32) * SD
    state = cd.init(jax.random.PRNGKey(0), {"point": data[0]})
    before = np.asarray(cd.sample(state, jax.random.PRNGKey(3), 2000, steps=1)).std()
    step = make_train_step(cd, steps_per_call=1)
    for i in range(400):
        state, _ = step(state, {"point": data[i]}, jax.random.PRNGKey(i))
    after = np.asarray(cd.sample(state, jax.random.PRNGKey(3), 2000, steps=1)).std(0)
    assert np.all(np.abs(after / SD - 1) < 0.25), (before, after)
    assert abs(before / SD - 1) > 0.5, before
