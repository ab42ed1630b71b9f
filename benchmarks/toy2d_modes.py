"""The mode-collapse benchmark: 2D mixtures under the PacGAN protocol, many seeds at once.

    flock /tmp/genjax-bench.lock python benchmarks/toy2d_modes.py --steps 2000 \
        --recipes GAN,PacGAN2,PacGAN4,PacGAN2-cos1e-3-EMA --eval-every 1000

Protocol (PacGAN, Lin et al. 2018, Table 1): ``toy2d_ring`` (8 modes,
std 0.01) and ``toy2d_grid`` (25 modes, std 0.05), 100,000 training points; G = 4 dense x 400
(ReLU + BatchNorm), z ~ N(0, I2); D = 3 maxout x 200 (5 pieces); Adam 1e-4, beta1 0.8;
D's minibatch 100 (PacGAN-m: 100 packed inputs, i.e. 100 m samples per step). Score on
2,500 samples with ``genjax.metrics.mode_coverage``: high quality (HQ) when within 3 std of
the nearest mode; a mode is captured when it has at least one HQ sample; reverse KL =
KL(HQ samples' mode histogram || uniform). Mean +- standard error over the seeds.

Recipes: a name of :data:`RECIPES`, or one with fields changed inline,
``"GAN+g_lr=1e-3+lr_schedule=cosine+warmup=100"`` (fields of :class:`Recipe`).
``--eval-every N`` also logs, every N steps, the scores of each way to sample G: its EMA or
raw weights x BatchNorm on the running averages (``GAN.sample``), on the statistics of the
2,500 latents (``batch``, ``GAN.standing_stats``), on separate batches of the training size
as D saw them in training (``batch100``), or in eval mode on the mean of those batches'
statistics (``standing100``; "100" names the protocol's batch, the batches are the training
batch, ``batch * pack`` samples); and ``d50``, the median distance to the nearest mode in std.

Speed: every recipe trains all seeds in ONE program: the objective's ``train_step`` is
vmapped over a seed axis (state, batch and key all carry it) and ``lax.scan`` runs
``--chunk`` steps per device call. Batches are drawn on device: step t of seed s takes the
training points ``randint(fold_in(data_key_s, t), (B,), 0, 100000)``.

Length: PacGAN's published runs (their 2DRing/2DGrid configs) train 400 epochs of the
100,000 points at batch 100, i.e. 400,000 G steps per seed. The default here is far shorter.
Cost on 2 CPU cores: ~0.03 s per seed-step for GAN on an otherwise idle machine (10 seeds
vmapped: 200 steps in 64 s including compilation; ~0.11 s per seed-step while other jobs
ran); PacGAN-m and R1 cost more. So the published length is over a day per recipe and
dataset for 10 seeds on such a CPU: the full table is a GPU job (``--steps 400000``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator
from genjax.families.gan.objective import GAN
from genjax.metrics.classes import kl_from_uniform
from genjax.metrics.coverage import mode_coverage


def _toy2d():
    """``genjax.data.toy2d`` loaded by path (pure numpy; needs no TFDS)."""
    path = Path(__file__).resolve().parents[1] / "genjax" / "data" / "toy2d.py"
    spec = importlib.util.spec_from_file_location("_toy2d", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOY2D = _toy2d()

# PacGAN Table 1 (10 trials): (modes, HQ %) for the protocol above.
PUBLISHED = {
    ("toy2d_ring", "GAN"): (6.3, 98.2), ("toy2d_grid", "GAN"): (17.3, 94.8),
    ("toy2d_ring", "PacGAN4"): (7.8, 95.9), ("toy2d_grid", "PacGAN4"): (24.8, 93.6),
}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One line of the table.

    Attributes:
      name: the row's label.
      loss, pack, r1_weight, ema_decay, n_critic: the GAN's fields.
      d_lr, g_lr, b1, b2: Adam's peak learning rates and betas.
      lr_schedule: ``"constant"`` or ``"cosine"`` (linear warm-up over ``warmup`` steps, then
        cosine decay to ``lr_end`` times the peak at the last step).
      warmup, lr_end: the schedule's warm-up steps and final fraction.
      batch: D's minibatch (packed inputs per step; ``batch * pack`` samples) and G's batch.
      standing_stats: ``GAN.standing_stats``: 0 samples with G's BatchNorm running averages,
        N > 0 with the mean statistics of N fresh latents in batches of the training size
        (``standing_batch = batch * pack``; the ``standing100`` variant of ``--eval-every``).
      freeze_bn_at: ``GAN.freeze_g_stats_at``: from this step on G trains with its BatchNorm
        statistics frozen (eval mode; 0: never).
      noise, noise_steps: ``GAN.instance_noise`` / ``instance_noise_steps``: Gaussian noise
        of std ``noise`` (in the units of the scaled points) on every D input at step 0,
        annealed linearly to 0 at ``noise_steps`` (0: off).
      data_scale: the GAN trains on the points times this (e.g. 0.25 brings the grid's std
        of 2.83 near the ring's 0.7); its samples are divided by it before scoring.
    """

    name: str
    loss: str = "non_saturating"
    pack: int = 1
    r1_weight: float = 0.0
    ema_decay: float | None = None
    n_critic: int = 1
    d_lr: float = 1e-4
    g_lr: float = 1e-4
    b1: float = 0.8
    b2: float = 0.999
    lr_schedule: str = "constant"
    warmup: int = 0
    lr_end: float = 0.0
    batch: int = 100
    standing_stats: int = 0
    freeze_bn_at: int = 0
    data_scale: float = 1.0
    noise: float = 0.0
    noise_steps: int = 0


RECIPES = {
    "GAN": Recipe("GAN"),
    "PacGAN2": Recipe("PacGAN2", pack=2),
    "PacGAN4": Recipe("PacGAN4", pack=4),
    "hinge+R1+EMA": Recipe("hinge+R1+EMA", loss="hinge", r1_weight=1.0, ema_decay=0.99),
    "hinge+R1+EMA@1e-3": Recipe("hinge+R1+EMA@1e-3", loss="hinge", r1_weight=1.0,
                                ema_decay=0.99, d_lr=1e-3, g_lr=1e-3, b1=0.5),
    "GAN-cos1e-3": Recipe("GAN-cos1e-3", lr_schedule="cosine", warmup=100, d_lr=1e-3,
                          g_lr=1e-3, b1=0.5, b2=0.99),
    # issue 16's best measured recipe (not the goal): PacGAN2, Adam 1e-3 (0.5, 0.99) warmed
    # up over 100 steps then cosine-decayed to 0, EMA of G 0.999 sampled on standing
    # statistics of 25 training-size batches
    "PacGAN2-cos1e-3-EMA": Recipe("PacGAN2-cos1e-3-EMA", pack=2, lr_schedule="cosine",
                                  warmup=100, d_lr=1e-3, g_lr=1e-3, b1=0.5, b2=0.99,
                                  ema_decay=0.999, standing_stats=5000),
}


def parse_recipe(spec: str) -> Recipe:
    """A named recipe, or one with fields changed: ``"GAN+g_lr=3e-4+lr_schedule=cosine"``."""
    if spec in RECIPES:
        return RECIPES[spec]
    name, *changes = spec.split("+")
    if name not in RECIPES:
        raise SystemExit(f"genjax: error: unknown recipe {name!r}; choose one of "
                         f"{', '.join(RECIPES)}")
    types = {f.name: f.type for f in dataclasses.fields(Recipe)}
    updates = {"name": spec}
    for change in changes:
        key, _, value = change.partition("=")
        if key not in types or key == "name":
            raise SystemExit(f"genjax: error: unknown recipe field {key!r} in {spec!r}")
        kind = types[key]
        if value == "none":
            updates[key] = None
        elif "float" in kind:
            updates[key] = float(value)
        elif "int" in kind:
            updates[key] = int(value)
        else:
            updates[key] = value
    return dataclasses.replace(RECIPES[name], **updates)


def _schedule(recipe: Recipe, peak: float, steps: int):
    if recipe.lr_schedule == "constant":
        return peak
    if recipe.lr_schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, peak, max(recipe.warmup, 1),
                                                  max(steps, recipe.warmup + 1),
                                                  peak * recipe.lr_end)
    raise ValueError(f"unknown lr_schedule {recipe.lr_schedule!r}")


def train_points(dataset: str) -> jax.Array:
    """The stored train split of a 2D mixture, ``(100000, 2)`` float32."""
    return jnp.asarray(TOY2D.sample_mixture(dataset, TOY2D.SPLIT_SIZES["train"],
                                            TOY2D.SPLIT_SEEDS["train"])[0], jnp.float32)


def make_gan(recipe: Recipe, steps: int) -> GAN:
    """The protocol's networks and optimiser under a recipe trained for ``steps`` G steps."""
    def adam(lr, updates):
        return optax.adam(_schedule(recipe, lr, updates), b1=recipe.b1, b2=recipe.b2)

    return GAN(
        generator=MLPGenerator(),
        discriminator=MaxoutDiscriminator(),
        latent_dim=2,
        g_optimizer=adam(recipe.g_lr, steps),
        d_optimizer=adam(recipe.d_lr, steps * recipe.n_critic),
        loss=recipe.loss,
        r1_weight=recipe.r1_weight,
        n_critic=recipe.n_critic,
        ema_decay=recipe.ema_decay,
        pack=recipe.pack,
        standing_stats=recipe.standing_stats,
        standing_batch=recipe.batch * recipe.pack if recipe.standing_stats else 0,
        freeze_g_stats_at=recipe.freeze_bn_at,
        instance_noise=recipe.noise,
        instance_noise_steps=recipe.noise_steps,
        data_key="point",
    )


def score_modes(points: np.ndarray, means: np.ndarray, std: float) -> dict[str, float]:
    """Modes captured, HQ share and reverse KL (``genjax.metrics.mode_coverage``, PacGAN's
    definitions), plus two diagnostics.

    Args:
      points: generated points (N, 2).
      means: mode centres (M, 2).
      std: the modes' standard deviation.

    Returns:
      ``{"modes": captured modes, "hq": % of points within 3 std of their nearest mode,
      "reverse_kl": KL(high-quality histogram over modes || uniform) in nats (NaN with no
      HQ point), "kl_all": the same over ALL points' nearest modes (the issue-5 tables),
      "d50": the median distance to the nearest mode in std}``.
    """
    cov = mode_coverage(points, means, std)
    x = np.asarray(points, np.float64)
    d = np.sqrt(((x[:, None, :] - means[None, :, :]) ** 2).sum(-1))
    nearest = d.argmin(1)
    shares = np.bincount(nearest, minlength=len(means)) / len(x)
    return {"modes": float(cov.modes), "hq": 100.0 * cov.high_quality,
            "reverse_kl": cov.reverse_kl, "kl_all": kl_from_uniform(shares),
            "d50": float(np.median(d[np.arange(len(x)), nearest])) / std}


def sample_points(gan: GAN, state, key: jax.Array, num: int, bn: str,
                  ema: bool = True, group: int = 100) -> jax.Array:
    """``num`` points of one trained state.

    Args:
      gan: the objective.
      state: its TrainState.
      key: sampling key.
      num: how many points.
      bn: ``"running"``: G in eval mode (BatchNorm running averages, ``GAN.sample``);
        ``"batch"``: G's BatchNorm normalises with the statistics of these ``num`` latents;
        ``"batch100"``: with those of separate batches of ``group`` latents, as in training;
        ``"standing100"``: eval mode on the mean of those batches' statistics.
      ema: sample the EMA of G when the recipe keeps one (False: the raw weights).
    """
    params = state.ema_params if (ema and gan.ema_decay is not None) else (
        state.params["generator"])
    variables = {"params": params, **state.model_state["generator"]}
    padded = -(-num // group) * group
    z = jax.random.normal(key, (padded, gan.latent_dim))
    if bn == "running":
        z = z[:num]
        return gan.generator.apply(variables, z, train=False)
    if bn == "batch":
        return gan.generator.apply(variables, z[:num], train=True, mutable=["batch_stats"])[0]
    if bn == "standing100":  # eval mode on the mean per-batch statistics of these weights
        momentum = 0.9  # MLPGenerator's BatchNorm: running = 0.9 running + 0.1 batch statistic
        zeros = jax.tree.map(jnp.zeros_like, state.model_state["generator"])

        def stats(zg):
            return gan.generator.apply({"params": params, **zeros}, zg, train=True,
                                       mutable=["batch_stats"])[1]
        groups = jax.vmap(stats)(z.reshape(-1, group, gan.latent_dim))
        standing = jax.tree.map(lambda u: u.mean(0) / (1 - momentum), groups)
        return gan.generator.apply({"params": params, **standing}, z[:num], train=False)
    if bn == "batch100":  # as in training: statistics of separate batches of ``group``
        def one(zg):
            return gan.generator.apply(variables, zg, train=True, mutable=["batch_stats"])[0]
        return jax.vmap(one)(z.reshape(-1, group, gan.latent_dim)).reshape(padded, -1)[:num]
    raise ValueError(f"unknown bn {bn!r}; choose 'running', 'batch', 'standing100' or "
                     "'batch100'")


VARIANTS = (("running", True), ("batch", True), ("standing100", True), ("batch100", True),
            ("running", False), ("batch", False), ("standing100", False), ("batch100", False))


def train_seeds(recipe: Recipe, dataset: str, seeds: int, steps: int, chunk: int,
                num_samples: int, eval_every: int = 0,
                log=print) -> tuple[list[dict[str, float]], float]:
    """Trains ``seeds`` runs of a recipe at once; returns per-seed scores and wall seconds.

    With ``eval_every`` it also logs, every that many steps, the mean scores of every
    sampling variant (EMA or raw weights x running or batch BatchNorm statistics).
    """
    gan = make_gan(recipe, steps)
    data = train_points(dataset) * recipe.data_scale
    means, std = TOY2D.mixture(dataset)
    batch_size = recipe.batch * recipe.pack
    base = jax.random.PRNGKey(0)
    seed_keys = jnp.stack([jax.random.fold_in(base, s) for s in range(seeds)])

    def batch_at(key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (batch_size,), 0, data.shape[0])
        return {"point": data[idx]}

    def init(key):
        k_init, _, _ = jax.random.split(key, 3)
        return gan.init(k_init, batch_at(key, 0))

    def one_step(state, key):
        _, k_data, k_train = jax.random.split(key, 3)
        step = state.step
        state, metrics = gan.train_step(state, batch_at(k_data, step),
                                        jax.random.fold_in(k_train, step))
        return state.replace(step=step + 1), metrics

    @jax.jit
    def run_chunk(states, keys):
        def body(s, _):
            return jax.vmap(one_step)(s, keys)
        return jax.lax.scan(body, states, None, length=chunk)

    @functools.partial(jax.jit, static_argnums=(2, 3))
    def sample(states, keys, bn, ema):
        return jax.vmap(lambda s, k: sample_points(gan, s, jax.random.fold_in(k, 10**6),
                                                   num_samples, bn, ema, batch_size))(states,
                                                                                      keys)

    def score(points):
        return [score_modes(p / recipe.data_scale, means, std) for p in np.asarray(points)]

    t0 = time.perf_counter()
    states = jax.jit(jax.vmap(init))(seed_keys)
    for i in range(steps // chunk):
        states, metrics = run_chunk(states, seed_keys)
        done = (i + 1) * chunk
        if eval_every and (done % eval_every == 0 or done == steps):
            parts = []
            for bn, ema in VARIANTS:
                if not ema and recipe.ema_decay is None:
                    continue
                s = summarise(score(sample(states, seed_keys, bn, ema)))
                tag = f"{'ema' if ema and recipe.ema_decay is not None else 'raw'}/{bn}"
                parts.append(f"{tag}: {s['modes'][0]:.2f} modes {s['hq'][0]:5.1f}% HQ "
                             f"kl {s['reverse_kl'][0]:.3f} d50 {s['d50'][0]:.1f}sd")
            log(f"  step {done:6d} {time.perf_counter() - t0:6.0f}s  " + " | ".join(parts),
                flush=True)
    points = jax.jit(jax.vmap(lambda s, k: gan.sample(s, jax.random.fold_in(k, 10**6),
                                                      num_samples)))(states, seed_keys)
    points.block_until_ready()
    wall = time.perf_counter() - t0
    return score(points), wall


def summarise(scores: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Mean and standard error of each score over seeds."""
    out = {}
    for k in scores[0]:
        v = np.array([s[k] for s in scores])
        out[k] = (float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="G updates per run")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=100, help="steps per device call")
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument("--recipes", default="GAN,PacGAN2,PacGAN4,PacGAN2-cos1e-3-EMA",
                        help=f"comma list of {', '.join(RECIPES)}")
    parser.add_argument("--datasets", default="toy2d_ring,toy2d_grid")
    parser.add_argument("--json", default="", help="also write the rows to this file")
    parser.add_argument("--eval-every", type=int, default=0,
                        help="also log every sampling variant's scores every N steps")
    args = parser.parse_args()
    if args.steps % args.chunk:
        parser.error("--steps must be a multiple of --chunk")

    rows = []
    print(f"{args.seeds} seeds, {args.steps} steps, {args.samples} samples; "
          f"jax {jax.__version__} on {jax.devices()[0].platform}")
    print(f"{'dataset':11} {'recipe':14} {'modes':>12} {'HQ %':>12} {'rev KL':>13} "
          f"{'all modes':>9} {'PacGAN paper':>14} {'wall s':>7}")
    for dataset in args.datasets.split(","):
        total_modes = len(TOY2D.mixture(dataset)[0])
        for name in args.recipes.split(","):
            scores, wall = train_seeds(parse_recipe(name), dataset, args.seeds, args.steps,
                                       args.chunk, args.samples, args.eval_every)
            s = summarise(scores)
            full = sum(int(x["modes"]) == total_modes for x in scores)
            paper = PUBLISHED.get((dataset, name))
            paper_txt = f"{paper[0]} / {paper[1]}%" if paper else "-"
            print(f"{dataset:11} {name:14} {s['modes'][0]:6.2f}+-{s['modes'][1]:4.2f} "
                  f"{s['hq'][0]:6.1f}+-{s['hq'][1]:4.1f} "
                  f"{s['reverse_kl'][0]:6.3f}+-{s['reverse_kl'][1]:5.3f} "
                  f"{full:>4}/{len(scores):<4} {paper_txt:>14} {wall:7.0f}", flush=True)
            rows.append({"dataset": dataset, "recipe": name, "steps": args.steps,
                         "seeds": args.seeds, "wall_s": wall, "summary": s,
                         "per_seed": scores})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
