"""GAN losses against closed forms, and the article's bugs proven absent."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.families.gan import objective as G
from tests.helpers import ring_points, tiny_gan


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


LOGITS_REAL = np.array([2.0, -1.0, 0.5, 30.0], np.float32)
LOGITS_FAKE = np.array([-3.0, 0.2, 1.5, -30.0], np.float32)


def test_losses_match_probability_formulas():
    dr, df = _sigmoid(LOGITS_REAL), _sigmoid(LOGITS_FAKE)
    np.testing.assert_allclose(G.d_loss_from_logits(LOGITS_REAL, LOGITS_FAKE),
                               -np.mean(np.log(dr)) - np.mean(np.log1p(-df)), rtol=1e-5)
    np.testing.assert_allclose(G.g_loss_non_saturating(LOGITS_FAKE), -np.mean(np.log(df)),
                               rtol=1e-5)
    np.testing.assert_allclose(G.g_loss_minimax(LOGITS_FAKE), np.mean(np.log1p(-df)), rtol=1e-5)


def test_losses_stay_finite_where_sigmoid_saturates():
    big = jnp.array([200.0, -200.0])
    for value in (G.d_loss_from_logits(big, -big), G.g_loss_non_saturating(big),
                  G.g_loss_minimax(big)):
        assert np.isfinite(value)
    grad = jax.grad(G.g_loss_non_saturating)(jnp.array([-200.0]))
    assert np.isfinite(grad).all() and grad[0] < 0  # strong push where D rejects the fake


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="non_saturating"):
        tiny_gan().__class__(**{**tiny_gan().__dict__, "loss": "wasserstien"})


def _d_loss_fn(gan, state, real, fake, loss):
    def d_loss(dp):
        d_vars = {"params": dp, **state.model_state["discriminator"]}
        real_l, _ = gan.discriminator.apply(d_vars, real, train=True, mutable=["batch_stats"])
        fake_l, _ = gan.discriminator.apply(d_vars, fake, train=True, mutable=["batch_stats"])
        return G.LOSSES[loss].d(real_l, fake_l)
    return d_loss


@pytest.mark.parametrize("loss", sorted(G.LOSSES))
def test_one_step_lowers_d_loss_then_g_loss(loss):
    """Sign conventions: D's update descends D's loss on the batch it saw, and G's update
    descends G's loss against the updated D (same latents), for every loss."""
    gan = dataclasses.replace(tiny_gan(lr=1e-3), loss=loss)
    batch = {"point": ring_points(64)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    new_state, metrics = gan.train_step(state, batch, key)  # eager: no compile per loss
    scores = ({"d_real", "d_fake"} if G.LOSSES[loss].probabilistic
              else {"d_real_score", "d_fake_score"})
    assert set(metrics) == {"d_loss", "g_loss"} | scores
    assert int(new_state.step) == 0  # the step counter is the loop's business
    # the randomness of train_step, as its docstring documents
    k_d, k_g = jax.random.split(key, 2)
    z_d = jax.random.normal(jax.random.split(k_d, 4)[0], (64, gan.latent_dim))
    z_g = jax.random.normal(jax.random.split(k_g, 3)[0], (64, gan.latent_dim))

    def generate(gp, z):
        g_vars = {"params": gp, **state.model_state["generator"]}
        return gan.generator.apply(g_vars, z, train=True, mutable=["batch_stats"])[0]

    d_loss = _d_loss_fn(gan, state, batch["point"], generate(state.params["generator"], z_d),
                        loss)
    before = d_loss(state.params["discriminator"])
    np.testing.assert_allclose(before, metrics["d_loss"], rtol=1e-5)
    assert d_loss(new_state.params["discriminator"]) < before

    def g_loss(gp):
        d_vars = {"params": new_state.params["discriminator"],
                  **new_state.model_state["discriminator"]}
        logits, _ = gan.discriminator.apply(d_vars, generate(gp, z_g), train=True,
                                            mutable=["batch_stats"])
        return G.LOSSES[loss].g(logits)

    np.testing.assert_allclose(g_loss(state.params["generator"]), metrics["g_loss"], rtol=1e-5)
    assert g_loss(new_state.params["generator"]) < g_loss(state.params["generator"])


def test_losses_match_closed_forms():
    r, f = LOGITS_REAL.astype(np.float64), LOGITS_FAKE.astype(np.float64)
    expected = {
        "hinge": (np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)), -np.mean(f)),
        "least_squares": (0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2),
                          0.5 * np.mean((f - 1) ** 2)),
        "wasserstein": (np.mean(f) - np.mean(r), -np.mean(f)),
        "minimax": (-np.mean(np.log(_sigmoid(r))) - np.mean(np.log1p(-_sigmoid(f))),
                    np.mean(np.log1p(-_sigmoid(f)))),
        "non_saturating": (-np.mean(np.log(_sigmoid(r))) - np.mean(np.log1p(-_sigmoid(f))),
                           -np.mean(np.log(_sigmoid(f)))),
    }
    assert set(expected) == set(G.LOSSES)
    for name, (d, g) in expected.items():
        np.testing.assert_allclose(G.LOSSES[name].d(LOGITS_REAL, LOGITS_FAKE), d, rtol=1e-5,
                                   err_msg=name)
        np.testing.assert_allclose(G.LOSSES[name].g(LOGITS_FAKE), g, rtol=1e-5, err_msg=name)


SHAPE = (4, 3, 2, 2)  # (batch, H, W, C): the norm must run over H, W and C together


def test_gradient_penalty_linear_critic_closed_form():
    """D(x) = <W, x> + b: every gradient is W, so GP = (||W||_F - 1)^2 for any weights."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=SHAPE[1:]) * 0.2
    real, fake = rng.normal(size=SHAPE), rng.normal(size=SHAPE)
    critic = lambda x: jnp.sum(x * jnp.asarray(w, jnp.float32), axis=(1, 2, 3)) + 0.3  # noqa: E731
    eps = rng.uniform(size=SHAPE[0])
    got = G.gradient_penalty(critic, jnp.float32(real), jnp.float32(fake), jnp.float32(eps))
    np.testing.assert_allclose(got, (np.sqrt(np.sum(w ** 2)) - 1.0) ** 2, rtol=1e-5)
    np.testing.assert_allclose(G.r1_penalty(critic, jnp.float32(real)), np.sum(w ** 2), rtol=1e-5)


def test_gradient_penalty_uses_one_weight_per_sample():
    """D(x) = sum(a x^2) / 2 has gradient a * x: the penalty depends on each sample's own
    interpolation weight, and R1 on each real sample."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.5, size=SHAPE[1:])
    real, fake = rng.normal(size=SHAPE), rng.normal(size=SHAPE)
    eps = rng.uniform(size=SHAPE[0])
    critic = lambda x: 0.5 * jnp.sum(jnp.asarray(a, jnp.float32) * x ** 2, axis=(1, 2, 3))  # noqa: E731
    x_hat = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    norms = np.sqrt(np.sum((a * x_hat) ** 2, axis=(1, 2, 3)))
    got = G.gradient_penalty(critic, jnp.float32(real), jnp.float32(fake), jnp.float32(eps))
    np.testing.assert_allclose(got, np.mean((norms - 1) ** 2), rtol=1e-4)
    np.testing.assert_allclose(G.r1_penalty(critic, jnp.float32(real)),
                               np.mean(np.sum((a * real) ** 2, axis=(1, 2, 3))), rtol=1e-4)


def test_pack_concatenates_consecutive_samples_on_the_last_axis():
    pts = np.arange(16, dtype=np.float32).reshape(8, 2)
    np.testing.assert_array_equal(G.pack(pts, 4), pts.reshape(2, 8))
    imgs = np.random.default_rng(0).normal(size=(6, 4, 4, 3)).astype(np.float32)
    packed = np.asarray(G.pack(imgs, 3))
    assert packed.shape == (2, 4, 4, 9)
    for j in range(2):
        np.testing.assert_array_equal(packed[j], np.concatenate(imgs[3 * j:3 * j + 3], axis=-1))
    with pytest.raises(ValueError, match="multiple of 4"):
        G.pack(pts[:6], 4)


def test_pacgan_and_penalties_train_on_points():
    """PacGAN4 with a maxout D (input width 8 inferred) plus R1 and GP: finite metrics."""
    from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator

    gan = G.GAN(MLPGenerator(hidden=(8, 8)), MaxoutDiscriminator(hidden=(8, 8), pieces=3),
                latent_dim=2, g_optimizer=optax.adam(1e-3), d_optimizer=optax.adam(1e-3),
                loss="hinge", r1_weight=1.0, gp_weight=1.0, pack=4, data_key="point")
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    assert state.params["discriminator"]["maxout0"]["kernel"].shape == (8, 24)
    _, metrics = gan.train_step(state, batch, jax.random.PRNGKey(1))
    assert {"gp", "r1"} <= set(metrics)
    assert all(np.isfinite(v) for v in jax.device_get(metrics).values())


def test_n_critic_updates_d_that_many_times():
    gan = dataclasses.replace(tiny_gan(), n_critic=3)
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    new, _ = gan.train_step(state, batch, jax.random.PRNGKey(1))
    assert int(new.opt_state["discriminator"][0].count) == 3
    assert int(new.opt_state["generator"][0].count) == 1


def test_dcgan_discriminator_loss_depends_on_the_real_batch():
    """The article fed noise to D as 'real' data; ours must read the real batch."""
    from genjax.families.gan.dcgan import Discriminator, Generator

    gan = G.GAN(Generator(features=(16, 8, 4), channels=1), Discriminator(features=(4, 8, 16)),
                latent_dim=8, g_optimizer=optax.adam(2e-4, b1=0.5),
                d_optimizer=optax.adam(2e-4, b1=0.5))
    rng = np.random.default_rng(0)
    digits = {"image": rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)}
    blank = {"image": -np.ones((8, 32, 32, 1), np.float32)}
    state = gan.init(jax.random.PRNGKey(0), digits)
    step = jax.jit(gan.train_step)
    key = jax.random.PRNGKey(3)
    (_, m1), (_, m2) = step(state, digits, key), step(state, blank, key)
    assert abs(float(m1["d_loss"]) - float(m2["d_loss"])) > 1e-4
    assert float(m1["d_real"]) != float(m2["d_real"])


def test_ema_params_track_generator_with_warmup():
    """EMA from the init weights with the decay warmed up: min(0.95, (1 + s) / (10 + s)) is
    0.1 at step 0 and 2/11 at step 1, checked against a float64 recursion."""
    gan = tiny_gan(ema_decay=0.95)
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    step = jax.jit(gan.train_step)
    expected = jax.tree.map(lambda p: np.asarray(p, np.float64), state.params["generator"])
    for s, decay in enumerate([1 / 10, 2 / 11]):
        state, _ = step(state.replace(step=jnp.asarray(s, state.step.dtype)), batch,
                        jax.random.PRNGKey(1 + s))
        expected = jax.tree.map(lambda e, p, d=decay: d * e + (1 - d) * np.float64(p),
                                expected, state.params["generator"])
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
                 state.ema_params, expected)


def test_label_smoothing_is_the_cross_entropy_with_a_smoothed_real_target():
    """D's loss with real target 1 - s, by the float64 probability formula, and in the step."""
    s = 0.1
    dr, df = _sigmoid(LOGITS_REAL), _sigmoid(LOGITS_FAKE)
    expected = (-np.mean((1 - s) * np.log(dr) + s * np.log1p(-dr))
                - np.mean(np.log1p(-df)))
    got = G.d_loss_from_logits(LOGITS_REAL, LOGITS_FAKE) + G.label_smoothing_term(
        LOGITS_REAL, s)
    np.testing.assert_allclose(got, expected, rtol=5e-5)  # float32 sums (measured 1.3e-5)
    # the step's d_loss is that loss: same state, batch and key with and without smoothing
    batch = {"point": ring_points(32)}
    plain, smooth = tiny_gan(), dataclasses.replace(tiny_gan(), label_smoothing=s)
    state = plain.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    _, m0 = plain.train_step(state, batch, key)
    _, m1 = smooth.train_step(state, batch, key)
    real_logits, _ = plain._apply(plain.discriminator, state.params["discriminator"],
                                  state.model_state["discriminator"], batch["point"], True)
    np.testing.assert_allclose(float(m1["d_loss"]) - float(m0["d_loss"]),
                               s * float(np.mean(np.asarray(real_logits, np.float64))),
                               rtol=1e-4, atol=1e-6)


def test_label_smoothing_out_of_range_or_without_cross_entropy_is_refused():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 0.5\)"):
        dataclasses.replace(tiny_gan(), label_smoothing=0.5)
    with pytest.raises(ValueError, match="'hinge' loss has none"):
        dataclasses.replace(tiny_gan(), loss="hinge", label_smoothing=0.1)


def test_standing_stats_are_the_mean_batch_statistics_of_the_sampled_weights():
    """``standing_stats=12, standing_batch=4``: G's (EMA) weights in eval mode on the mean over
    3 batches of 4 fresh latents of each batch's BatchNorm mean and (biased) variance,
    against a float64 NumPy forward; the running averages play no part."""
    from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator

    gan = G.GAN(MLPGenerator(hidden=(4,)), MaxoutDiscriminator(hidden=(4,), pieces=2),
                latent_dim=2, g_optimizer=optax.adam(1e-3), d_optimizer=optax.adam(1e-3),
                ema_decay=0.9, standing_stats=12, standing_batch=4, data_key="point")
    state = gan.init(jax.random.PRNGKey(0), {"point": ring_points(8)})
    rng = np.random.default_rng(0)
    ema = jax.tree.map(lambda p: p + 0.3 * rng.standard_normal(p.shape).astype(np.float32),
                       state.params["generator"])
    bogus = jax.tree.map(lambda s: s + 5.0, state.model_state["generator"])  # running stats
    state = state.replace(ema_params=ema, model_state={**state.model_state, "generator": bogus})
    key = jax.random.PRNGKey(4)
    out = np.asarray(gan.sample(state, key, 5), np.float64)

    p = jax.tree.map(lambda a: np.asarray(a, np.float64), ema)
    w0, bn, d1 = p["Dense_0"]["kernel"], p["BatchNorm_0"], p["Dense_1"]
    extra = np.asarray(jax.random.normal(jax.random.fold_in(key, 1), (12, 2)), np.float64)
    groups = (extra @ w0).reshape(3, 4, -1)
    mean, var = groups.mean(1).mean(0), groups.var(1).mean(0)
    z = np.asarray(jax.random.normal(key, (5, 2)), np.float64)
    h = (z @ w0 - mean) / np.sqrt(var + 1e-5)
    expected = np.maximum(h * bn["scale"] + bn["bias"], 0.0) @ d1["kernel"] + d1["bias"]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)

    running = dataclasses.replace(gan, standing_stats=0).sample(state, key, 5)
    assert np.max(np.abs(np.asarray(running) - out)) > 1e-2  # the bogus averages were used
    one_batch = dataclasses.replace(gan, standing_batch=0).sample(state, key, 5)
    assert np.max(np.abs(np.asarray(one_batch) - out)) > 1e-4  # batches of 4 != one of 12
    with pytest.raises(ValueError, match="must be >= 0"):
        dataclasses.replace(gan, standing_stats=-1)
    with pytest.raises(ValueError, match="multiple of standing_batch"):
        dataclasses.replace(gan, standing_stats=10)


def test_freeze_g_stats_at_trains_g_on_frozen_batchnorm_statistics():
    """Before ``freeze_g_stats_at`` the step updates G's running averages; from it on they stay
    bit-identical while G's weights still move, and G's loss is the one of G in eval mode on
    those averages (recomputed here from the step's own latents), not of G on batch statistics."""
    from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator

    gan = G.GAN(MLPGenerator(hidden=(8, 8)), MaxoutDiscriminator(hidden=(8,), pieces=2),
                latent_dim=2, g_optimizer=optax.adam(1e-2), d_optimizer=optax.adam(1e-2),
                freeze_g_stats_at=2, data_key="point")
    batch = {"point": ring_points(16)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    step = jax.jit(gan.train_step)
    history = [state]
    for i in range(4):
        new, metrics = step(history[-1], batch, jax.random.PRNGKey(10 + i))
        history.append(new.replace(step=new.step + 1))
    stats = [jax.tree.leaves(s.model_state["generator"]) for s in history]

    def moved(a, b):
        pairs = zip(a, b, strict=True)
        return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in pairs)

    assert moved(stats[0], stats[1]) > 1e-4 and moved(stats[1], stats[2]) > 1e-4
    assert moved(stats[2], stats[3]) == 0.0 and moved(stats[3], stats[4]) == 0.0
    assert moved(jax.tree.leaves(history[3].params["generator"]),
                 jax.tree.leaves(history[4].params["generator"])) > 1e-5

    before, key = history[3], jax.random.PRNGKey(13)  # the last step, a frozen one
    after, metrics = step(before, batch, key)
    z = jax.random.normal(jax.random.split(jax.random.split(key, 2)[-1], 3)[0], (16, 2))
    g_vars = {"params": before.params["generator"], **before.model_state["generator"]}
    d_vars = {"params": after.params["discriminator"],
              **after.model_state["discriminator"]}

    def g_loss(train):
        fake = gan.generator.apply(g_vars, z, train=train, mutable=["batch_stats"])[0] \
            if train else gan.generator.apply(g_vars, z, train=False)
        logits = np.asarray(gan.discriminator.apply(d_vars, fake, train=False), np.float64)
        return float(np.mean(np.log1p(np.exp(-logits))))  # non-saturating: -log sigmoid

    np.testing.assert_allclose(float(metrics["g_loss"]), g_loss(False), rtol=1e-4)
    assert abs(g_loss(True) - g_loss(False)) > 1e-3  # the two modes are distinguishable
    with pytest.raises(ValueError, match="freeze_g_stats_at must be >= 0"):
        dataclasses.replace(gan, freeze_g_stats_at=-1)


def test_instance_noise_std_falls_linearly_to_zero():
    got = [float(G.instance_noise_std(s, 0.8, 100)) for s in (0, 25, 50, 100, 250)]
    np.testing.assert_allclose(got, [0.8, 0.6, 0.4, 0.0, 0.0], atol=1e-7)


def test_instance_noise_blurs_both_d_inputs_then_vanishes():
    """At step s, D's loss is the loss of D on real + std(s) * noise and fake + std(s) * noise
    (the noise redrawn here from the step's documented keys, the loss in float64 NumPy); once
    the std reaches 0 the step is bit-identical to a step without instance noise."""
    gan = dataclasses.replace(tiny_gan(), instance_noise=0.5, instance_noise_steps=10)
    batch = {"point": ring_points(8)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(3)
    noisy_state = state.replace(step=jnp.asarray(4, state.step.dtype))
    _, metrics = gan.train_step(noisy_state, batch, key)

    kz, kar, kaf, _ = jax.random.split(jax.random.split(key, 2)[0], 4)
    fake, _ = gan._apply(gan.generator, state.params["generator"],
                         state.model_state["generator"], jax.random.normal(kz, (8, 4)), True)
    std = 0.5 * (1 - 4 / 10)

    def logits(x, k):
        noisy = np.asarray(x) + std * np.asarray(jax.random.normal(jax.random.fold_in(k, 1),
                                                                   x.shape))
        out, _ = gan._apply(gan.discriminator, state.params["discriminator"],
                            state.model_state["discriminator"], jnp.asarray(noisy, jnp.float32),
                            True)
        return np.asarray(out, np.float64)

    lr, lf = logits(jnp.asarray(batch["point"]), kar), logits(fake, kaf)
    expected = np.mean(np.log1p(np.exp(-lr))) + np.mean(np.log1p(np.exp(lf)))
    np.testing.assert_allclose(float(metrics["d_loss"]), expected, rtol=1e-5)
    plain = dataclasses.replace(gan, instance_noise=0.0, instance_noise_steps=0)
    assert abs(float(plain.train_step(noisy_state, batch, key)[1]["d_loss"]) - expected) > 1e-4

    late = state.replace(step=jnp.asarray(10, state.step.dtype))
    a, _ = jax.jit(gan.train_step)(late, batch, key)
    b, _ = jax.jit(plain.train_step)(late, batch, key)
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                     strict=True))
    with pytest.raises(ValueError, match="instance_noise_steps >= 1"):
        dataclasses.replace(gan, instance_noise_steps=0)
