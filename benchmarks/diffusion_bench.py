"""Diffusion benchmarks: UNet train step and DDIM sampling against PyTorch, and 2D mode coverage.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py speed [--batch 64]
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py sampling [--batch 256]
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py quality [--seeds 5]

* ``speed``: one training step (eps loss, Adam with warmup and clipping, EMA) of the
  ``ddpm_mnist`` UNet on real 28x28 digits, genjax (jit, donated state) against the same UNet
  in PyTorch eager (benchmarks/torch_unet.py, checked to give the same output from the same
  weights), in the same process, one after the other.
* ``sampling``: DDIM, 50 steps, batch 256, same UNet: genjax's one compiled ``lax.scan``
  against a PyTorch ``no_grad`` loop. On CPU this is the small ``ddpm_mnist`` UNet, not the
  CIFAR one.
* ``quality``: ``ddpm_toy2d`` on toy2d_grid and toy2d_ring over several seeds; 2,500 DDIM-50
  samples scored with the PacGAN protocol (high quality: within 3 std of the
  nearest mode; a mode is captured when it has a high-quality sample; reverse KL of the
  nearest-mode histogram of all samples to uniform), mean +- standard error. The scoring is
  the local ``mode_scores``, as in ``toy2d_modes.py``; ``genjax.metrics.mode_coverage`` gives the
  same modes and high-quality share but a reverse KL over high-quality samples only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def _mnist_batch(batch: int) -> dict:
    from genjax.data import Batches, dataset_spec, load_source
    from genjax.modalities import modality_of

    spec = dataset_spec("mnist_subset")
    return Batches(load_source("mnist_subset", "train"), batch, 0,
                   transform=modality_of(spec).transform(spec)).batch(0)


def _objective(name: str = "ddpm_mnist", ch: int | None = None):
    from genjax.app.experiment import build_objective
    from genjax.config import load_config
    from genjax.data import dataset_spec

    config = load_config(name)
    if ch:
        config.model.ch = ch
    return config, build_objective(config, dataset_spec(config.data.name))


def _torch_unet(config, params):
    import torch

    from benchmarks.torch_unet import UNet, load_flax_params

    m = config.model
    net = UNet(in_ch=1, ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
               attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
               norm_groups=m.norm_groups, resolution=28)
    load_flax_params(net, params)
    return net, torch


def _check_same_network(objective, params, net, torch, x) -> float:
    """Max |genjax - torch| of the UNet output on the same input and weights (eval mode)."""
    import jax
    import jax.numpy as jnp

    t = np.array([3, 500] * (len(x) // 2), np.int32)[: len(x)]
    y = np.asarray(jax.jit(lambda p: objective.model.apply({"params": p}, jnp.asarray(x),
                                                           jnp.asarray(t)))(params))
    net.eval()
    with torch.no_grad():
        yt = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(t))
    net.train()
    return float(np.abs(yt.numpy().transpose(0, 2, 3, 1) - y).max())


def _perturbed(params, scale=0.05):
    import jax

    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(7), len(leaves))
    return jax.tree.unflatten(tree, [p + scale * jax.random.normal(k, p.shape)
                                     for p, k in zip(leaves, keys, strict=True)])


def bench_speed(batch: int, iters: int, ch: int | None) -> list[dict]:
    import jax

    from genjax.core.step import make_train_step

    config, objective = _objective(ch=ch)
    data = _mnist_batch(batch)
    state = jax.jit(objective.init)(jax.random.PRNGKey(0), data)
    net, torch = _torch_unet(config, _perturbed(state.params))
    diff = _check_same_network(objective, _perturbed(state.params), net, torch,
                               np.asarray(data["image"][:4]))
    print(f"same network check: max |genjax - torch| = {diff:.2e}", flush=True)

    step = make_train_step(objective)
    key = jax.random.PRNGKey(1)
    t0 = time.perf_counter()
    state, m = step(state, data, key)
    jax.block_until_ready(m)
    first = time.perf_counter() - t0
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        state, m = step(state, data, key)
        jax.block_until_ready(m)
        times.append(time.perf_counter() - t0)
    rows = [{"impl": "genjax jit", "ms": 1e3 * statistics.median(times),
             "compile_s": first - statistics.median(times)}]

    # PyTorch eager: the same step (eps MSE, Adam + warmup + clip 1.0, EMA 0.999)
    opt = torch.optim.Adam(net.parameters(), lr=config.optim.lr,
                           betas=(config.optim.b1, config.optim.b2))
    warm = config.optim.warmup_steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warm))
    ema = [p.detach().clone() for p in net.parameters()]
    abar = torch.from_numpy(objective.schedule.alphas_cumprod_np.astype(np.float32))
    x0 = torch.from_numpy(np.asarray(data["image"]).transpose(0, 3, 1, 2).copy())
    T = objective.schedule.num_timesteps

    def torch_step():
        t = torch.randint(0, T, (batch,))
        noise = torch.randn_like(x0)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = torch.mean((net(xt, t) - noise) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), config.optim.grad_clip)
        opt.step()
        sched.step()
        with torch.no_grad():
            params = list(net.parameters())
            torch._foreach_mul_(ema, 0.999)
            torch._foreach_add_(ema, params, alpha=0.001)
        return loss.item()

    torch_step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        torch_step()
        times.append(time.perf_counter() - t0)
    rows.append({"impl": "torch eager", "ms": 1e3 * statistics.median(times), "compile_s": 0.0})
    return rows


def bench_sampling(batch: int, steps: int, reps: int, ch: int | None) -> list[dict]:
    import jax

    config, objective = _objective(ch=ch)
    data = _mnist_batch(8)
    state = jax.jit(objective.init)(jax.random.PRNGKey(0), data)
    state = state.replace(ema_params=_perturbed(state.ema_params))
    net, torch = _torch_unet(config, state.ema_params)
    net.eval()
    sample = jax.jit(lambda s, k: objective.sample(s, k, batch, sampler="ddim", steps=steps))
    t0 = time.perf_counter()
    jax.block_until_ready(sample(state, jax.random.PRNGKey(0)))
    first = time.perf_counter() - t0
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(sample(state, jax.random.PRNGKey(i + 1)))
        times.append(time.perf_counter() - t0)
    g = statistics.median(times)
    rows = [{"impl": "genjax lax.scan", "s": g, "img_s": batch / g, "compile_s": first - g}]

    from genjax.families.diffusion.samplers import ddim_coefficients

    c = ddim_coefficients(objective.schedule, steps, 0.0)

    def torch_sample():
        x = torch.randn(batch, 1, 28, 28)
        with torch.no_grad():
            for t, ab, ap in zip(c["t"], c["abar"], c["abar_prev"], strict=True):
                eps = net(x, torch.full((batch,), int(t)))
                x0 = ((x - np.sqrt(1 - ab) * eps) / np.sqrt(ab)).clamp(-1, 1)
                eps = (x - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
                x = float(np.sqrt(ap)) * x0 + float(np.sqrt(1 - ap)) * eps
        return x

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch_sample()
        times.append(time.perf_counter() - t0)
    p = statistics.median(times)
    rows.append({"impl": "torch no_grad loop", "s": p, "img_s": batch / p, "compile_s": 0.0})
    return rows


def mode_scores(samples: np.ndarray, means: np.ndarray, std: float) -> dict:
    """The PacGAN protocol: modes captured, high-quality share, reverse KL to uniform."""
    d = np.sqrt(((samples[:, None, :] - means[None]) ** 2).sum(-1))
    nearest, dist = d.argmin(1), d.min(1)
    hq = dist < 3 * std
    modes = len(np.unique(nearest[hq]))
    q = np.bincount(nearest, minlength=len(means)) / len(samples)
    kl = float(np.sum(q[q > 0] * np.log(q[q > 0] * len(means))))
    return {"modes": modes, "hq": 100.0 * hq.mean(), "kl": kl}


def bench_quality(seeds: int, train_steps: int) -> list[dict]:
    import jax

    from genjax.data.toy2d import mixture, sample_mixture

    rows = []
    for name in ("toy2d_grid", "toy2d_ring"):
        config, objective = _objective("ddpm_toy2d")
        del config
        import dataclasses

        from genjax.app.experiment import build_objective
        from genjax.config import load_config
        from genjax.data import dataset_spec

        cfg = load_config("ddpm_toy2d")
        cfg.data.name = name
        objective = build_objective(cfg, dataset_spec(name))
        objective = dataclasses.replace(objective)
        points, _ = sample_mixture(name, 100_000, 0)  # the stored train split
        means, std = mixture(name)
        chunk = 500

        def body(state, xs, objective=objective):
            batch, key = xs
            new, m = objective.train_step(state, {"point": batch}, key)
            return new.replace(step=state.step + 1), m["loss"]

        run_chunk = jax.jit(lambda s, b, k, body=body: jax.lax.scan(body, s, (b, k)))
        sample = jax.jit(lambda s, k, objective=objective: objective.sample(s, k, 2500))
        scores = []
        t0 = time.perf_counter()
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            state = jax.jit(objective.init)(jax.random.PRNGKey(seed),
                                            {"point": points[:cfg.train.batch_size]})
            base = jax.random.PRNGKey(1000 + seed)
            for start in range(0, train_steps, chunk):
                idx = rng.integers(0, len(points), (chunk, cfg.train.batch_size))
                keys = jax.vmap(lambda i, base=base: jax.random.fold_in(base, i))(
                    np.arange(start, start + chunk))
                state, _ = run_chunk(state, points[idx], keys)
            out = np.asarray(sample(state, jax.random.PRNGKey(seed)), np.float64)
            scores.append(mode_scores(out, means, std))
        elapsed = time.perf_counter() - t0
        row = {"data": name, "seeds": seeds, "steps": train_steps, "s_per_seed": elapsed / seeds}
        for k in ("modes", "hq", "kl"):
            vals = [s[k] for s in scores]
            row[k] = (np.mean(vals), np.std(vals, ddof=1) / np.sqrt(len(vals)) if seeds > 1
                      else 0.0)
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("speed", "sampling", "quality"))
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps (sampling)")
    parser.add_argument("--reps", type=int, default=2, help="timed sampling runs")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train-steps", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ch", type=int, default=None,
                        help="UNet base width (default: the ddpm_mnist config's 32)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from genjax.app.training import configure_jax

    configure_jax()
    import jax

    jax.config.update("jax_compilation_cache_dir", None)  # measure real compiles
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"torch threads {args.threads}, jax {jax.__version__} on {jax.default_backend()}, "
          f"torch {torch.__version__}")
    if args.part == "speed":
        batch = args.batch or 64
        rows = bench_speed(batch, args.iters, args.ch)
        ref = rows[-1]["ms"]
        print(f"\n| ddpm_mnist UNet (ch {args.ch or 32}) train step, batch {batch} | ms/step "
              "| vs torch eager | compile s |\n|---|---|---|---|")
        for r in rows:
            print(f"| {r['impl']} | {r['ms']:.0f} | {ref / r['ms']:.2f}x faster | "
                  f"{r['compile_s']:.1f} |")
    elif args.part == "sampling":
        batch = args.batch or 256
        rows = bench_sampling(batch, args.steps, args.reps, args.ch)
        ref = rows[-1]["img_s"]
        print(f"\n| DDIM {args.steps} steps, batch {batch}, ddpm_mnist UNet ch {args.ch or 32} "
              "| s/batch | images/s | vs torch | compile s |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['impl']} | {r['s']:.1f} | {r['img_s']:.1f} | {r['img_s'] / ref:.2f}x "
                  f"| {r['compile_s']:.1f} |")
    else:
        rows = bench_quality(args.seeds, args.train_steps)
        print("\n| data | seeds | train steps | modes | HQ % | reverse KL | s/seed |\n"
              "|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['data']} | {r['seeds']} | {r['steps']} | {r['modes'][0]:.1f} +- "
                  f"{r['modes'][1]:.1f} | {r['hq'][0]:.1f} +- {r['hq'][1]:.1f} | "
                  f"{r['kl'][0]:.3f} +- {r['kl'][1]:.3f} | {r['s_per_seed']:.0f} |")


if __name__ == "__main__":
    main()
