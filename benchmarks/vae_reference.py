"""The vae_mnist VAE against the same VAE in PyTorch: test NLL (IWAE k=1000) and ms/step.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    flock /tmp/genjax-bench.lock python benchmarks/vae_reference.py [--steps 1000]

Both frameworks, each in its own subprocess, same run:

* the network of ``experiments/configs/vae_mnist.py`` (read from it): encoder Conv(16, k4 s2
  p1) - ReLU - Conv(32, k4 s2 p1) - ReLU - Dense(256) - ReLU - Dense(2 * 32); decoder
  Dense(256) - ReLU - Dense(7 * 7 * 32) - ReLU - ConvT(16, k4 s2 p1) - ReLU - ConvT(1, k4 s2
  p1) -> Bernoulli logits. The same initialisation scheme (weights truncated-normal LeCun,
  i.e. flax's ``lecun_normal``, biases 0; not the same draws); the config's Adam;
* the same training batches: ``mnist_subset`` train split (4,000 digits), batch 64, the
  genjax batch order (seed 0), dynamically binarised every step (each framework with its
  own random numbers), loss = per-image ``-log p(x|z) + KL`` summed over pixels and latent
  dims, batch mean; the same number of steps;
* the same test images: the 1,000-digit test split binarised ONCE with NumPy (seed 0), then
  ELBO and ``-L_1000`` (the IWAE bound, k = 1000, float32 logsumexp, chunks of ~8,192
  decoder evaluations) for both; ours through ``VAE.test_metrics`` (already-binary images
  pass through its binarisation unchanged).

ms/step is the median of per-step times (batch on the host, step to completion) after 10
warm-up steps. Prints one table and, with ``--json``, writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _data(batch: int, seed: int):
    """Training batches (genjax order) and the fixed binarisation of the test split."""
    import numpy as np

    from genjax.data import Batches
    from genjax.data.pipeline import ArraySource, images_to_float, load_arrays

    train = Batches(ArraySource(load_arrays("mnist_subset", "train")), batch, seed,
                    shuffle=True, transform=images_to_float())
    test = images_to_float()(load_arrays("mnist_subset", "test"))["image"]
    rng = np.random.default_rng(seed)
    test = np.where(rng.uniform(size=test.shape) < (test + 1) / 2, 1.0, -1.0).astype(np.float32)
    return train, test


def _config(args):
    """vae_mnist with the benchmark's batch, seed and k."""
    from genjax.config import apply_overrides, load_config

    config = load_config("vae_mnist")
    apply_overrides(config, [f"train.batch_size={args.batch}", f"eval.iwae_k={args.iwae_k}",
                             f"eval.iwae_chunk={args.iwae_chunk}", f"seed={args.seed}"])
    return config


def run_genjax(args) -> dict:
    import jax
    import numpy as np

    from genjax.app.experiment import build_objective
    from genjax.app.training import configure_jax
    from genjax.core.loop import run_keys
    from genjax.core.step import make_train_step
    from genjax.data import dataset_spec

    configure_jax()
    vae = build_objective(_config(args), dataset_spec("mnist_subset"))
    train, test = _data(args.batch, args.seed)
    keys = run_keys(args.seed)
    state = jax.jit(vae.init)(keys["init"], train.batch(0))
    step = make_train_step(vae)
    times, t_start = [], time.perf_counter()
    for i in range(args.steps):
        batch = train.batch(i)
        t0 = time.perf_counter()
        state, metrics = step(state, batch, keys["train"])
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - t0)
    train_s = time.perf_counter() - t_start
    metrics_fn = jax.jit(vae.test_metrics)
    t0 = time.perf_counter()
    rows = [jax.device_get(metrics_fn(state, {"image": test[i:i + args.eval_batch]},
                                      jax.random.fold_in(keys["eval"], i)))
            for i in range(0, len(test), args.eval_batch)]
    eval_s = time.perf_counter() - t0
    return {"ms_per_step": 1e3 * float(np.median(times[10:])), "train_s": train_s,
            "eval_s": eval_s, "test_elbo": float(np.mean([r["elbo"] for r in rows])),
            "test_nll": float(np.mean([r[f"nll_iwae_{args.iwae_k}"] for r in rows]))}


# -- PyTorch --------------------------------------------------------------------------------
def _torch_modules(latent: int, c1: int, c2: int, hidden: int):
    """Encoder Conv(c1)-Conv(c2)-Dense(hidden)-Dense(2 latent); decoder the mirror (28x28)."""
    import torch
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(1, c1, 4, 2, 1), nn.ReLU(), nn.Conv2d(c1, c2, 4, 2, 1), nn.ReLU(),
                nn.Flatten(), nn.Linear(7 * 7 * c2, hidden), nn.ReLU(),
                nn.Linear(hidden, 2 * latent))

        def forward(self, x):
            return self.net(x).chunk(2, dim=-1)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                    nn.Linear(hidden, 7 * 7 * c2), nn.ReLU())
            self.deconv = nn.Sequential(nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ReLU(),
                                        nn.ConvTranspose2d(c1, 1, 4, 2, 1))

        def forward(self, z):
            return self.deconv(self.fc(z).view(-1, c2, 7, 7))

    def lecun_(m):
        """flax's lecun_normal: truncated normal (+-2 std), variance 1 / fan_in; zero bias."""
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            w = m.weight
            if isinstance(m, nn.Linear):
                fan_in = w.shape[1]
            elif isinstance(m, nn.Conv2d):
                fan_in = w.shape[1] * w.shape[2] * w.shape[3]
            else:  # ConvTranspose2d weight: (in, out, kh, kw); flax counts kh * kw * in
                fan_in = w.shape[0] * w.shape[2] * w.shape[3]
            std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
            with torch.no_grad():
                nn.init.trunc_normal_(w, 0.0, std, -2 * std, 2 * std)
                nn.init.zeros_(m.bias)

    enc, dec = Encoder(), Decoder()
    enc.apply(lecun_)
    dec.apply(lecun_)
    return enc, dec


def _torch_log_px(dec, z, x):
    """Bernoulli log-likelihood per image, summed over pixels; z (..., L), x (B, 1, 28, 28)."""
    import torch.nn.functional as F

    lead = z.shape[:-1]
    logits = dec(z.reshape(-1, z.shape[-1])).view(*lead, *x.shape[1:])
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits),
                                               reduction="none").flatten(len(lead)).sum(-1)


def torch_iwae(enc, dec, x, k: int, chunk: int):
    """One-sample ELBO and the IWAE bound ``L_k`` per image, in torch (call under no_grad).

    Args:
      enc: ``x in {-1, 1} (B, 1, 28, 28) -> (mean, log_var)``.
      dec: ``z (N, L) -> logits (N, 1, 28, 28)``.
      x: binary images in {0, 1}, ``(B, 1, 28, 28)``.
      k: importance samples; chunks of ``max(1, min(k, chunk // B))`` samples (float32
        log-weights, one logsumexp over all ``k``).

    Returns:
      ``(elbo, bound)``, each ``(B,)`` nats.
    """
    import torch

    mean, log_var = enc(x * 2 - 1)
    std = torch.exp(0.5 * log_var)
    c = max(1, min(k, chunk // x.shape[0]))
    chunks = []
    for _ in range(-(-k // c)):
        eps = torch.randn((c,) + mean.shape)
        z = mean + std * eps
        log_pz = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_qz = (-0.5 * eps ** 2 - 0.5 * log_var - 0.5 * math.log(2 * math.pi)).sum(-1)
        chunks.append(_torch_log_px(dec, z, x) + log_pz - log_qz)
    log_w = torch.cat(chunks)[:k]
    elbo_z = mean + std * torch.randn_like(mean)
    kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(-1)
    elbo = _torch_log_px(dec, elbo_z, x) - kl
    return elbo, torch.logsumexp(log_w, 0) - math.log(k)


def run_torch(args) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    m, optim = _config(args).model, _config(args).optim
    if tuple(m.dec_features) != tuple(reversed(m.enc_features)) or len(m.enc_features) != 2:
        raise SystemExit("the torch reference mirrors two encoder stages in the decoder")
    enc, dec = _torch_modules(m.latent_dim, *m.enc_features, m.hidden)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=optim.lr,
                           betas=(optim.b1, optim.b2))
    train, test = _data(args.batch, args.seed)

    def step(x01):
        x = torch.bernoulli(x01)
        mean, log_var = enc(x * 2 - 1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        log_px = _torch_log_px(dec, z, x)
        kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(-1)
        loss = (kl - log_px).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    times, t_start = [], time.perf_counter()
    for i in range(args.steps):
        x01 = torch.from_numpy((train.batch(i)["image"] + 1) / 2).permute(0, 3, 1, 2)
        t0 = time.perf_counter()
        step(x01.contiguous())
        times.append(time.perf_counter() - t0)
    train_s = time.perf_counter() - t_start

    t0 = time.perf_counter()
    elbos, bounds = [], []
    with torch.no_grad():
        x_all = torch.from_numpy((test + 1) / 2).permute(0, 3, 1, 2).contiguous()
        for i in range(0, len(test), args.eval_batch):
            elbo, bound = torch_iwae(enc, dec, x_all[i:i + args.eval_batch], args.iwae_k,
                                     args.iwae_chunk)
            elbos.append(elbo.mean().item())
            bounds.append(bound.mean().item())
    eval_s = time.perf_counter() - t0
    return {"ms_per_step": 1e3 * float(np.median(times[10:])), "train_s": train_s,
            "eval_s": eval_s, "test_elbo": float(np.mean(elbos)),
            "test_nll": -float(np.mean(bounds))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--iwae-chunk", type=int, default=8192)
    parser.add_argument("--eval-batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--only", choices=("genjax", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        result = run_genjax(args) if args.only == "genjax" else run_torch(args)
        print("RESULT " + json.dumps(result), flush=True)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
    results = {}
    for variant in ("genjax", "torch"):
        cmd = [sys.executable, __file__, "--only", variant, f"--steps={args.steps}",
               f"--batch={args.batch}", f"--iwae-k={args.iwae_k}",
               f"--iwae-chunk={args.iwae_chunk}", f"--eval-batch={args.eval_batch}",
               f"--threads={args.threads}", f"--seed={args.seed}"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if out.returncode or not line:
            sys.exit(f"{variant} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
        results[variant] = json.loads(line[-1][len("RESULT "):])
    g, t = results["genjax"], results["torch"]
    k = args.iwae_k
    print(f"VAE on mnist_subset, {args.steps} steps, batch {args.batch}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {args.threads} threads")
    print(f"| variant | ms/step | vs torch eager | train s | test -ELBO | test NLL (IWAE k={k}) "
          f"| eval s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in (("genjax (jit)", g), ("torch eager", t)):
        print(f"| {name} | {r['ms_per_step']:.2f} | {r['ms_per_step'] / t['ms_per_step']:.2f}x "
              f"| {r['train_s']:.0f} | {-r['test_elbo']:.2f} | {r['test_nll']:.2f} "
              f"| {r['eval_s']:.0f} |")
    gap = g["test_nll"] - t["test_nll"]
    print(f"NLL gap (genjax - torch): {gap:+.2f} nats/image (target <= +0.5): "
          f"{'PASS' if gap <= 0.5 else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **results}, indent=2))


if __name__ == "__main__":
    main()
