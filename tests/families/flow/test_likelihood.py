"""The ODE log-likelihood against closed forms: a linear flow from N(0, I) to N(mu, L L^T)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.families.flow import FlowMatching
from genjax.families.flow.objective import dequantize
from genjax.families.flow.samplers import divergence, log_likelihood
from genjax.nn.mlp_denoiser import MLPDenoiser

MU = np.array([1.0, -2.0])
L = np.array([[1.5, 0.4], [0.4, 0.7]])  # symmetric positive definite, not diagonal


class LinearFlow(nn.Module):
    """The flow x_t = t mu + ((1 - t) I + t L) z (z ~ N(0, I)) as a velocity network:
    v(x, t) = mu + (L - I) M_t^{-1} (x - t mu), M_t = (1 - t) I + t L, with t = tau / 1000
    (the objective's time scaling). At t = 1 its samples are N(mu, L L^T) exactly."""

    mu: tuple = tuple(MU)
    scale: tuple = tuple(map(tuple, L))

    @nn.compact
    def __call__(self, x, tau, label=None, train=False):
        self.param("unused", nn.initializers.zeros, ())
        shape = x.shape
        x = x.reshape(shape[0], -1)
        mu, lm = jnp.asarray(self.mu), jnp.asarray(self.scale)
        eye = jnp.eye(lm.shape[0])
        t = (tau / 1000.0)[:, None, None]
        m_inv = jnp.linalg.inv((1.0 - t) * eye + t * lm)
        a = jnp.einsum("ij,bjk->bik", lm - eye, m_inv)
        v = mu + jnp.einsum("bij,bj->bi", a, x - t[:, :, 0] * mu)
        return v.reshape(shape)


def gaussian_logpdf(x, mu, cov):
    x, mu, cov = (np.asarray(a, np.float64) for a in (x, mu, cov))
    d = x.shape[1]
    diff = x - mu
    sol = np.linalg.solve(cov, diff.T).T
    return -0.5 * ((diff * sol).sum(1) + np.log(np.linalg.det(cov)) + d * np.log(2 * np.pi))


def model(**kw):
    return FlowMatching(model=LinearFlow(), optimizer=optax.sgd(0.0), data_shape=(2,),
                        data_key="point", clip=False, **kw)


def test_exact_divergence_is_the_jacobian_trace():
    net = MLPDenoiser(features=16, num_layers=2)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    params = net.init(jax.random.PRNGKey(1), x, jnp.zeros(5))

    def v(y, t):
        return net.apply(params, y, jnp.full((y.shape[0],), 1000.0 * t))

    got = divergence(v, x, jnp.float32(0.3))
    want = [np.trace(jax.jacfwd(lambda y: v(y[None], jnp.float32(0.3))[0])(xi)) for xi in x]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_ode_log_density_of_a_2d_gaussian_equals_the_closed_form():
    objective = model()
    state = objective.init(jax.random.PRNGKey(0), {"point": jnp.zeros((4, 2))})
    # the flow does carry N(0, I) to N(mu, L L^T): sampling it gives those moments
    samples = np.asarray(objective.sample(state, jax.random.PRNGKey(1), 20_000, solver="rk4",
                                          steps=16), np.float64)
    np.testing.assert_allclose(samples.mean(0), MU, atol=0.03)
    np.testing.assert_allclose(np.cov(samples.T), L @ L.T, atol=0.05)

    x = MU + jax.random.normal(jax.random.PRNGKey(2), (64, 2)) @ jnp.asarray(L.T, jnp.float32)
    want = gaussian_logpdf(x, MU, L @ L.T)
    v = objective.velocity(state.ema_params)
    got = log_likelihood(v, x, 32, "rk4")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)  # measured max error 1.2e-5
    m = objective.test_metrics(state, {"point": x}, jax.random.PRNGKey(3))
    np.testing.assert_allclose(float(m["nll"]), -want.mean(), rtol=1e-4)
    assert np.isfinite(float(m["loss"]))
    # fewer steps of a lower-order solver are visibly worse (measured: euler 4 steps 0.085)
    assert np.abs(np.asarray(log_likelihood(v, x, 4, "euler")) - want).max() > 1e-2


def test_hutchinson_estimate_is_unbiased_with_the_stated_probes():
    objective = model(likelihood_probes=8)
    state = objective.init(jax.random.PRNGKey(0), {"point": jnp.zeros((4, 2))})
    x = MU + jax.random.normal(jax.random.PRNGKey(2), (2048, 2)) @ jnp.asarray(L.T, jnp.float32)
    want = gaussian_logpdf(x, MU, L @ L.T)
    got = np.asarray(log_likelihood(objective.velocity(state.ema_params), x, 16, "rk4",
                                    jax.random.PRNGKey(4), probes=8))
    err = got - want
    assert err.std() > 1e-3  # a real estimate per example (the Jacobian is not diagonal)...
    # ...that is unbiased (measured: per-example std 0.29 nats, mean 0.007, bound 0.025)
    assert abs(err.mean()) < 4 * err.std() / np.sqrt(len(err))
    m = objective.test_metrics(state, {"point": x}, jax.random.PRNGKey(3))
    assert abs(float(m["nll"]) + want.mean()) < 0.02


def test_bits_per_dim_of_images_under_uniform_dequantization():
    # a 1x2x1 "image" whose two pixels follow the same 2D Gaussian flow
    objective = FlowMatching(model=LinearFlow(), optimizer=optax.sgd(0.0), data_shape=(1, 2, 1),
                             bits_per_dim=True)
    k = np.random.default_rng(0).integers(0, 256, size=(32, 1, 2, 1))
    images = jnp.asarray(k / 127.5 - 1.0, jnp.float32)
    state = objective.init(jax.random.PRNGKey(0), {"image": images})
    key = jax.random.PRNGKey(5)
    m = objective.test_metrics(state, {"image": images}, key)
    _, k_deq, _ = jax.random.split(key, 3)  # test_metrics' dequantization noise
    x = np.asarray(dequantize(k_deq, images), np.float64).reshape(32, 2)
    assert np.all(x >= images.reshape(32, 2)) and np.all(x < images.reshape(32, 2) + 1 / 127.5)
    nll = -gaussian_logpdf(x, MU, L @ L.T).mean()
    np.testing.assert_allclose(float(m["bpd"]), nll / (2 * np.log(2)) + np.log2(127.5),
                               rtol=1e-4)
