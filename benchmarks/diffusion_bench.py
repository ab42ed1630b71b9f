"""Diffusion benchmarks: UNet train step and DDIM sampling against PyTorch, and 2D mode coverage.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py speed [--batch 64]
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py sampling [--batch 256]
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py quality [--seeds 5]
    flock /tmp/genjax-bench.lock python benchmarks/diffusion_bench.py families [--batch 64]

* ``speed``: one training step (eps loss, Adam with warmup and clipping, EMA) of the
  ``ddpm_mnist`` UNet on real 28x28 digits, genjax (jit, donated state) against the same UNet
  in PyTorch eager (benchmarks/torch_unet.py, checked to give the same output from the same
  weights), in the same process, one after the other.
* ``sampling``: DDIM, 50 steps, batch 256, same UNet: genjax's one compiled ``lax.scan``
  against a PyTorch ``no_grad`` loop. On CPU this is the small ``ddpm_mnist`` UNet, not the
  CIFAR one.
* ``families``: the diffusion-era families on one network, the 32x32 MNIST UNet of
  ``edm_mnist`` / ``flow_mnist`` / ``cm_mnist`` (ch 16; ``ddpm_mnist`` padded to 32 with the
  same UNet): each family's training step (its loss, Adam with warmup, EMA) against the same
  UNet in PyTorch eager with that loss written out (DDPM eps MSE; EDM's preconditioned,
  weighted denoiser loss; flow matching's velocity MSE on the straight path; iCT's
  pseudo-Huber between a student pass with gradient and a target pass without); then
  sampling at equal NFE (EDM Heun 18 steps = 35 NFE, flow Euler 35 steps) against a
  PyTorch ``no_grad`` loop of the same solver.
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


def _objective(name: str = "ddpm_mnist", ch: int | None = None, overrides=()):
    from genjax.app.experiment import build_objective
    from genjax.config import apply_overrides, load_config
    from genjax.data import dataset_spec

    config = load_config(name)
    if ch:
        config.model.ch = ch
    apply_overrides(config, list(overrides))
    return config, build_objective(config, dataset_spec(config.data.name))


def _torch_unet(config, params, resolution: int = 28):
    import torch

    from benchmarks.torch_unet import UNet, load_flax_params

    m = config.model
    net = UNet(in_ch=1, ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
               attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
               norm_groups=m.norm_groups, resolution=resolution)
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


def _time(fn, iters: int) -> float:
    """Median seconds of ``fn()`` over ``iters`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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

    rows.append({"impl": "torch eager", "ms": 1e3 * _time(torch_step, iters), "compile_s": 0.0})
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


#: family -> (config, overrides): the one 32x32 UNet (ch 16, attention at 8x8)
FAMILY_CONFIGS = {
    "ddpm": ("ddpm_mnist", ("data.image_size=32", "model.ch=16",
                            "model.attn_resolutions=(8,)")),
    "edm": ("edm_mnist", ()),
    "flow": ("flow_mnist", ()),
    "cm": ("cm_mnist", ()),
}




def _torch_loss(family: str, objective, net, torch, x):
    """The family's training loss on batch ``x`` (NCHW) for the PyTorch UNet ``net``."""
    b = x.shape[0]

    def expand(v):
        return v[:, None, None, None]

    if family == "ddpm":
        abar = torch.from_numpy(objective.schedule.alphas_cumprod_np.astype(np.float32))
        t = torch.randint(0, objective.schedule.num_timesteps, (b,))
        noise = torch.randn_like(x)
        a = expand(abar[t])
        return torch.mean((net(a.sqrt() * x + (1 - a).sqrt() * noise, t) - noise) ** 2)
    if family == "flow":
        t = torch.rand(b)
        x0 = torch.randn_like(x)
        xt = expand(1 - t) * x0 + expand(t) * x
        return torch.mean((net(xt, objective.time_scale * t) - (x - x0)) ** 2)
    sd = objective.sigma_data
    if family == "edm":
        sigma = torch.exp(objective.p_mean + objective.p_std * torch.randn(b))
        xn = x + expand(sigma) * torch.randn_like(x)
        c_skip = sd ** 2 / (sigma ** 2 + sd ** 2)
        c_out = sigma * sd / (sigma ** 2 + sd ** 2).sqrt()
        c_in = 1 / (sigma ** 2 + sd ** 2).sqrt()
        out = net(expand(c_in) * xn, objective.time_scale * sigma.log() / 4)
        denoised = expand(c_skip) * xn + expand(c_out) * out
        weight = (sigma ** 2 + sd ** 2) / (sigma * sd) ** 2
        return torch.mean(expand(weight) * (denoised - x) ** 2)
    # cm (iCT): adjacent levels of the schedule at the final curriculum, pseudo-Huber
    smin, smax, rho = objective.sigma_min, objective.sigma_max, objective.rho
    levels = objective.s1 + 1
    i = torch.randint(0, levels - 1, (b,)).float()
    lo, hi = smin ** (1 / rho), smax ** (1 / rho)
    s_cur = (lo + i / (levels - 1) * (hi - lo)) ** rho
    s_next = (lo + (i + 1) / (levels - 1) * (hi - lo)) ** rho
    z = torch.randn_like(x)

    def f(xn, sigma):
        c_skip = sd ** 2 / ((sigma - smin) ** 2 + sd ** 2)
        c_out = (sigma - smin) * sd / (sigma ** 2 + sd ** 2).sqrt()
        c_in = 1 / (sigma ** 2 + sd ** 2).sqrt()
        out = net(expand(c_in) * xn, objective.time_scale * sigma.log() / 4)
        return expand(c_skip) * xn + expand(c_out) * out

    student = f(x + expand(s_next) * z, s_next)
    with torch.no_grad():
        target = f(x + expand(s_cur) * z, s_cur)
    c = 0.00054 * float(np.sqrt(np.prod(x.shape[1:])))
    dist = torch.sqrt(((student - target) ** 2).flatten(1).sum(1) + c * c) - c
    return torch.mean(dist / (s_next - s_cur))


def bench_families(batch: int, iters: int) -> list[dict]:
    """Train ms/step per family (genjax vs PyTorch eager, same UNet)."""
    import jax
    import torch

    from genjax.core.step import make_train_step

    rows = []
    data = _mnist_batch(batch)
    x = np.pad(np.asarray(data["image"]), ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1)
    batch32 = {**data, "image": x}
    for family, (name, overrides) in FAMILY_CONFIGS.items():
        config, objective = _objective(name, overrides=overrides)
        state = jax.jit(objective.init)(jax.random.PRNGKey(0), batch32)
        net, _ = _torch_unet(config, _perturbed(state.params), resolution=32)
        diff = _check_same_network(objective, _perturbed(state.params), net, torch, x[:4])
        step = make_train_step(objective)
        holder = [state]

        def genjax_step(step=step, holder=holder):
            holder[0], m = step(holder[0], batch32, jax.random.PRNGKey(1))
            jax.block_until_ready(m)

        t0 = time.perf_counter()
        genjax_step()
        compile_s = time.perf_counter() - t0
        g = _time(genjax_step, iters)
        o = config.optim
        opt = torch.optim.Adam(net.parameters(), lr=o.lr, betas=(o.b1, o.b2))
        warm = max(o.warmup_steps, 1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s, w=warm: min(1.0, (s + 1) / w))
        ema = [p.detach().clone() for p in net.parameters()]
        xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        clip = o.get("grad_clip", 0.0)

        def torch_step(family=family, objective=objective, net=net, opt=opt, sched=sched,
                       ema=ema, clip=clip, xt=xt):
            loss = _torch_loss(family, objective, net, torch, xt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            opt.step()
            sched.step()
            with torch.no_grad():
                torch._foreach_mul_(ema, 0.999)
                torch._foreach_add_(ema, list(net.parameters()), alpha=0.001)

        t = _time(torch_step, iters)
        rows.append({"family": family, "config": name, "genjax_ms": 1e3 * g,
                     "torch_ms": 1e3 * t, "compile_s": compile_s - g, "check": diff})
        print(f"{family}: genjax {1e3 * g:.0f} ms, torch {1e3 * t:.0f} ms "
              f"(same-network check {diff:.1e})", flush=True)
    return rows


def bench_family_sampling(batch: int, reps: int) -> list[dict]:
    """Images/s at 35 NFE: EDM Heun (18 steps) and flow Euler (35 steps), genjax's
    ``lax.scan`` vs a PyTorch ``no_grad`` loop of the same solver, same UNet."""
    import jax
    import torch

    from genjax.families.edm.samplers import karras_sigmas

    rows = []
    for family, options in (("edm", {"sampler": "heun", "steps": 18}),
                            ("flow", {"solver": "euler", "steps": 35})):
        name, overrides = FAMILY_CONFIGS[family]
        config, objective = _objective(name, overrides=overrides)
        state = jax.jit(objective.init)(jax.random.PRNGKey(0),
                                        {"image": np.zeros((2, 32, 32, 1), np.float32)})
        state = state.replace(ema_params=_perturbed(state.ema_params))
        net, _ = _torch_unet(config, state.ema_params, resolution=32)
        net.eval()
        sample = jax.jit(lambda s, k, o=options, obj=objective: obj.sample(s, k, batch, **o))
        holder = [0]

        def genjax_sample(sample=sample, state=state, holder=holder):
            holder[0] += 1
            jax.block_until_ready(sample(state, jax.random.PRNGKey(holder[0])))

        g = _time(genjax_sample, reps)

        if family == "edm":
            sd, sigmas = objective.sigma_data, [float(v) for v in karras_sigmas(
                18, objective.sigma_min, objective.sigma_max, objective.rho)]

            def denoise(xn, s, net=net, sd=sd, ts=objective.time_scale):
                sig = torch.full((xn.shape[0],), s)
                c_skip, c_in = sd ** 2 / (s ** 2 + sd ** 2), 1 / (s ** 2 + sd ** 2) ** 0.5
                c_out = s * sd / (s ** 2 + sd ** 2) ** 0.5
                return c_skip * xn + c_out * net(c_in * xn, ts * sig.log() / 4)

            def torch_sample(denoise=denoise, sigmas=sigmas):
                with torch.no_grad():
                    xn = torch.randn(batch, 1, 32, 32) * sigmas[0]
                    for s, s_next in zip(sigmas[:-1], sigmas[1:], strict=True):
                        d = (xn - denoise(xn, s)) / s
                        x_e = xn + (s_next - s) * d
                        if s_next > 0:
                            x_e = xn + (s_next - s) * 0.5 * (d + (x_e - denoise(x_e, s_next))
                                                             / s_next)
                        xn = x_e
                    return xn.clamp(-1, 1)
        else:
            def torch_sample(net=net, ts=objective.time_scale):
                with torch.no_grad():
                    xn = torch.randn(batch, 1, 32, 32)
                    for k in range(35):
                        t = torch.full((batch,), k / 35)
                        xn = xn + net(xn, ts * t) / 35
                    return xn.clamp(-1, 1)

        t = _time(torch_sample, reps)
        rows.append({"family": family, "options": options, "genjax_img_s": batch / g,
                     "torch_img_s": batch / t})
        print(f"{family} sampling: genjax {batch / g:.1f} img/s, torch {batch / t:.1f} img/s",
              flush=True)
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
    parser.add_argument("part", choices=("speed", "sampling", "quality", "families"))
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
    elif args.part == "families":
        batch = args.batch or 64
        rows = bench_families(batch, args.iters)
        print(f"\n| 32x32 MNIST UNet ch 16, batch {batch} | genjax ms/step | PyTorch eager "
              "ms/step | genjax / PyTorch (target <= 0.8x) | genjax compile s | same-network "
              "max abs diff |\n|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['family']} ({r['config']}) | {r['genjax_ms']:.0f} | {r['torch_ms']:.0f} "
                  f"| {r['genjax_ms'] / r['torch_ms']:.2f}x | {r['compile_s']:.1f} | "
                  f"{r['check']:.1e} |")
        rows = bench_family_sampling(args.batch or 64, args.reps)
        print("\n| sampler, 35 NFE | genjax images/s | PyTorch loop images/s | ratio (target "
              ">= 2x) |\n|---|---|---|---|")
        for r in rows:
            print(f"| {r['family']} {r['options']} | {r['genjax_img_s']:.1f} | "
                  f"{r['torch_img_s']:.1f} | {r['genjax_img_s'] / r['torch_img_s']:.2f}x |")
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
