"""GAN variants' step time: genjax's jitted train step against the same step in PyTorch eager.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    python benchmarks/gan_step_time.py [--batch 64] [--iters 10] [--threads 1,2]

For each MNIST config of the GAN family (``cgan_mnist``, ``wgangp_mnist``, ``hinge_sn_mnist``,
``progan_mnist``) it times one full training step, each side in its own subprocess on the
same real batch of 64 padded MNIST digits (with labels):

* genjax: exactly what ``genjax train CONFIG`` runs, ``load_config`` + ``build_objective`` +
  ``make_train_step`` (``benchmarks/step_time.py``'s ``run_genjax``, one step per call);
* torch: ``benchmarks/torch_gan.py``'s ``make_gan_step`` built from the same config: same
  networks (parameter counts asserted equal), loss, penalty, ``n_critic``, DiffAugment, EMA
  and Adam settings, eager mode, once per torch thread count in ``--threads``; the
  reference is the faster one (on a loaded machine 2 torch threads can be far slower than 1).

``progan_mnist`` is timed in its final phase: 32x32, top level, fade weight 1 (genjax: the
state's step set to the schedule's ``total_growth_steps``; torch: level 3, alpha 1), the
full network. Prints one Markdown table with the ratio genjax / torch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from step_time import _peak_rss_mb, _real_data, run_genjax  # noqa: E402

CONFIGS = ("cgan_mnist", "wgangp_mnist", "hinge_sn_mnist", "progan_mnist")


def _start_step(config_name: str) -> int:
    """The step to time from: a progressive config's final stable phase, else 0."""
    from genjax.app.experiment import build_objective
    from genjax.config import load_config
    from genjax.data import dataset_spec

    objective = build_objective(load_config(config_name), dataset_spec("mnist_subset"))
    schedule = getattr(objective, "schedule", None)
    return schedule.total_growth_steps if schedule is not None else 0


def run_torch(config_name: str, batch: int, iters: int, threads: int) -> dict:
    """Times ``torch_gan.make_gan_step`` for ``config_name`` (3 warm-up steps, then ``iters``).

    Returns:
      ms_per_step, compile_s (warm-up minus 3 steady steps), peak_rss_mb, num_params (of the
      generator and the discriminator).
    """
    import torch
    from torch_gan import make_gan_step, num_params

    from genjax.config import load_config

    torch.set_num_threads(threads)
    data = _real_data(batch)
    real = torch.from_numpy(data["image"].transpose(0, 3, 1, 2).copy())
    labels = torch.from_numpy(data["label"]).long()
    step, (g, d) = make_gan_step(load_config(config_name), batch)
    t0 = time.perf_counter()
    for _ in range(3):
        step(real, labels)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(iters):
        step(real, labels)
    ms = (time.perf_counter() - t0) / iters * 1e3
    return {"ms_per_step": ms, "compile_s": warm - 3 * ms / 1e3, "peak_rss_mb": _peak_rss_mb(),
            "num_params": {"generator": num_params(g), "discriminator": num_params(d)}}


def worker(config_name: str, side: str, batch: int, iters: int) -> dict:
    """Runs one measurement; ``side`` is ``genjax`` or ``torchN`` (N torch threads)."""
    if side == "genjax":
        return run_genjax(batch, iters, 1, config_name, _start_step(config_name))
    return run_torch(config_name, batch, iters, int(side.removeprefix("torch")))


def _run_worker(config_name: str, side: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", f"{config_name}:{side}", "--batch",
           str(args.batch), "--iters", str(args.iters)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(lines[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--threads", default="1,2", help="torch thread counts to try")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        config_name, side = args.worker.split(":")
        print(json.dumps(worker(config_name, side, args.batch, args.iters)))
        return
    sides = ["genjax"] + [f"torch{t}" for t in args.threads.split(",")]
    rows = {}
    for name in args.configs.split(","):
        rows[name] = {side: _run_worker(name, side, args) for side in sides}
        print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
    cpu = platform.processor() or platform.machine()
    print(f"GAN variants, 32x32x1, batch {args.batch}, one full train step, {args.iters} timed "
          f"steps; {cpu}, {os.cpu_count()} cores; torch eager: the faster of "
          f"{args.threads} threads")
    print("| config | genjax ms/step | torch eager ms/step | ratio genjax/torch | "
          "genjax compile s | params genjax / torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    mismatched = []
    for name, r in rows.items():
        jx = r["genjax"]
        torch_ok = {s: v for s, v in r.items() if s != "genjax" and "error" not in v}
        if "error" in jx or not torch_ok:
            errors = "; ".join(f"{s}: {v['error']}" for s, v in r.items() if "error" in v)
            print(f"| {name} | failed: {errors} | | | | |")
            continue
        best = min(torch_ok, key=lambda s: torch_ok[s]["ms_per_step"])
        pt = torch_ok[best]
        for side, v in torch_ok.items():
            if v["num_params"] != jx["num_params"]:
                mismatched.append(f"{name}: genjax {jx['num_params']} != {side} "
                                  f"{v['num_params']}")
        others = ", ".join(f"{s.removeprefix('torch')} threads: {v['ms_per_step']:.1f}"
                           for s, v in torch_ok.items() if s != best)
        n_jx, n_pt = sum(jx["num_params"].values()), sum(pt["num_params"].values())
        label = f"{name} (final 32x32 phase)" if name.startswith("progan") else name
        print(f"| {label} | {jx['ms_per_step']:.1f} | {pt['ms_per_step']:.1f} "
              f"({best.removeprefix('torch')} thr.{'; ' + others if others else ''}) | "
              f"{jx['ms_per_step'] / pt['ms_per_step']:.2f}x | {jx['compile_s']:.1f} | "
              f"{n_jx:,} / {n_pt:,} |")
    assert not mismatched, f"parameter counts differ: {mismatched}"


if __name__ == "__main__":
    main()
