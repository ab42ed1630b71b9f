"""Small real parts shared by tests: a tiny MLP GAN and its data."""

from __future__ import annotations

import flax.linen as nn
import numpy as np
import optax

from genjax.core.collectives import data_axis
from genjax.families.gan.objective import GAN


class MLP(nn.Module):
    """Dense layers with BatchNorm (so model_state is exercised) and a linear output."""

    features: tuple[int, ...]
    out: int
    squeeze: bool = False

    @nn.compact
    def __call__(self, x, train: bool):
        for f in self.features:
            x = nn.Dense(f, use_bias=False)(x)  # BN follows: a bias would get no gradient
            x = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                             axis_name=data_axis())(x)
            x = nn.relu(x)
        x = nn.Dense(self.out)(x)
        return x[:, 0] if self.squeeze else x


def tiny_gan(ema_decay=None, lr=1e-3) -> GAN:
    """A 2D GAN small enough for many CPU steps in a test."""
    return GAN(
        generator=MLP((16,), 2),
        discriminator=MLP((16,), 1, squeeze=True),
        latent_dim=4,
        g_optimizer=optax.adam(lr, b1=0.5),
        d_optimizer=optax.adam(lr, b1=0.5),
        ema_decay=ema_decay,
        data_key="point",
    )


def ring_points(n: int = 512, seed: int = 0) -> np.ndarray:
    """Points on a unit ring with a little noise."""
    rng = np.random.default_rng(seed)
    angle = rng.integers(0, 8, n) * (2 * np.pi / 8)
    pts = np.stack([np.cos(angle), np.sin(angle)], 1) + 0.01 * rng.normal(size=(n, 2))
    return pts.astype(np.float32)


def tree_equal(a, b) -> bool:
    """Bit-identical pytrees."""
    import jax

    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(
        np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb, strict=True))




def assert_pmap_step_equals_single(objective, state, batch: dict, key, devices: int = 2,
                                   metric: str = "loss") -> None:
    """``objective.train_step`` under ``jax.pmap`` over ``devices`` (the batch split evenly,
    the state replicated) gives the single-device step's parameters and mean ``metric``."""
    import jax
    import jax.numpy as jnp

    from genjax.core.collectives import DATA_AXIS

    single, m1 = jax.jit(objective.train_step)(state, batch, key)
    rep = jax.tree.map(lambda a: jnp.stack([a] * devices), state)
    split = jax.tree.map(lambda a: a.reshape((devices, a.shape[0] // devices) + a.shape[1:]),
                         batch)
    out, m2 = jax.pmap(lambda s, b: objective.train_step(s, b, key), axis_name=DATA_AXIS,
                       devices=jax.devices()[:devices])(rep, split)
    for a, b in zip(jax.tree.leaves(single.params), jax.tree.leaves(out.params), strict=True):
        np.testing.assert_allclose(np.asarray(b[0]), np.asarray(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(jnp.mean(m2[metric])), float(m1[metric]), rtol=1e-5)
