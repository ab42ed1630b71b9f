"""How fast the 2D protocol's discriminator alone learns the grid's detail (a diagnostic).

    python benchmarks/toy2d_d_capacity.py --lr 1e-3 --blur 0 0.3 --steps 3000

A GAN's generator can only be pulled as sharp as its discriminator can tell apart. Here the
PacGAN protocol's D (3 maxout x 200, 5 pieces) is trained with no generator: real points of
``toy2d_grid`` (25 modes of std 0.05, 2 apart) against a FIXED "fake" distribution, either
uniform on the square [-5, 5]^2 (``--blur 0``) or the grid blurred by Gaussian noise of
std ``blur`` (what a generator that placed its mass near the modes but not yet within 3 std
looks like). Non-saturating cross-entropy, Adam (0.5, 0.99), batch 200 + 200, and the mean
D loss of the last 100 steps every ``--log-every`` steps (2 ln 2 = 1.386 is chance).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax
from toy2d_modes import train_points

from genjax.families.gan.mlp import MaxoutDiscriminator


def train_d(lr: float, blur: float, steps: int, log_every: int, seed: int = 0) -> list[float]:
    """Mean D loss over each ``log_every`` window of ``steps`` updates."""
    data = train_points("toy2d_grid")
    d = MaxoutDiscriminator()
    key = jax.random.PRNGKey(seed)
    params = d.init(key, data[:4], train=False)
    opt = optax.adam(lr, b1=0.5, b2=0.99)

    def fake(k, n):
        k1, k2 = jax.random.split(k)
        if blur == 0:
            return jax.random.uniform(k1, (n, 2), minval=-5.0, maxval=5.0)
        rows = jax.random.randint(k1, (n,), 0, data.shape[0])
        return data[rows] + blur * jax.random.normal(k2, (n, 2))

    def loss(p, k):
        k1, k2 = jax.random.split(k)
        real = data[jax.random.randint(k1, (200,), 0, data.shape[0])]
        lr_, lf = d.apply(p, real, train=True), d.apply(p, fake(k2, 200), train=True)
        return jnp.mean(jax.nn.softplus(-lr_)) + jnp.mean(jax.nn.softplus(lf))

    @jax.jit
    def window(carry, start):
        def body(c, i):
            p, s = c
            value, grads = jax.value_and_grad(loss)(p, jax.random.fold_in(key, i))
            updates, s = opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), value
        carry, values = jax.lax.scan(body, carry, start + jnp.arange(log_every))
        return carry, values[-100:].mean()

    carry, out = (params, opt.init(params)), []
    for start in range(0, steps, log_every):
        carry, mean = window(carry, start)
        out.append(float(mean))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3])
    parser.add_argument("--blur", type=float, nargs="+", default=[0.0, 0.3])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--log-every", type=int, default=500)
    args = parser.parse_args()
    marks = list(range(args.log_every, args.steps + 1, args.log_every))
    print("| fake distribution | D lr | " + " | ".join(f"step {m}" for m in marks) + " |")
    print("| --- | ---: |" + " ---: |" * len(marks))
    for blur in args.blur:
        for lr in args.lr:
            what = "uniform on [-5, 5]^2" if blur == 0 else f"grid blurred by std {blur}"
            losses = train_d(lr, blur, args.steps, args.log_every)
            print(f"| {what} | {lr:g} | " + " | ".join(f"{v:.3f}" for v in losses) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
