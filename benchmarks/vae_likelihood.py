"""Issue 16: a genjax VAE recipe's test NLL (IWAE k=1000) against a PyTorch MLP VAE reference.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    python benchmarks/vae_likelihood.py                       # vae_mnist_best + the reference
    python benchmarks/vae_likelihood.py --only genjax --config vae_mnist \\
        --set model.train_k=5 --set train.steps=3000          # one lever, genjax only

Both in the same run, each in its own subprocess:

* ``genjax``: the named config (default ``vae_mnist_best``) with ``--set KEY=VALUE``
  overrides, trained as ``genjax train`` trains it (its objective's jitted step, the genjax
  batch order of the ``mnist_subset`` train split, seed 0), without checkpoints;
* ``torch``: the PyTorch examples VAE (``pytorch/examples`` ``vae/main.py``): encoder
  784-400 (ReLU) -> 2 x 20, decoder 20-400 (ReLU) -> 784 Bernoulli logits, PyTorch's default
  initialisation, Adam 1e-3, batch 128, 100 epochs of the 4,000 training digits (3,125 steps),
  each batch dynamically binarised (``torch.bernoulli``), loss = per-image ``-log p(x|z) + KL``
  summed over pixels and latents, batch mean (the examples sum over the batch: Adam is
  invariant to that scale, up to its eps).

Evaluation, the same for both (``benchmarks/vae_reference.py``'s binarisation and IWAE
code): the whole 1,000-digit test split and every 4th training digit (1,000, 100 per
class), each binarised ONCE with NumPy (seeds 0 and 1); one-sample ELBO and ``-L_k``
(IWAE, k = ``--iwae-k`` = 1000, float32 logsumexp in chunks of ~8,192 decoder evaluations),
nats per image. Test NLL minus train NLL shows the overfitting. With ``--curve N`` the
genjax run also prints the one-sample ELBO of both sets every N steps (cheap, no IWAE).

Prints one table; ``--json`` also writes the numbers.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

EPOCHS = 100  # the reference's training length
TORCH_BATCH = 128


def _binarised(images, seed: int):
    """Images in [-1, 1] binarised once with NumPy (as vae_reference's test set), in {-1, 1}."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return np.where(rng.uniform(size=images.shape) < (images + 1) / 2, 1.0, -1.0
                    ).astype(np.float32)


def _eval_sets(seed: int, size: int):
    """``{"test": the whole test split, "train": every (4000 / size)-th train digit}``, binary
    (the train split is sorted by class: a stride keeps the subset balanced)."""
    from genjax.data.pipeline import images_to_float, load_arrays

    test = images_to_float()(load_arrays("mnist_subset", "test"))["image"]
    train = images_to_float()(load_arrays("mnist_subset", "train"))["image"]
    train = train[::max(1, len(train) // size)][:size]
    return {"test": _binarised(test, seed), "train": _binarised(train, seed + 1)}


def _genjax_config(args):
    from genjax.config import apply_overrides, load_config

    config = load_config(args.config)
    apply_overrides(config, [f"eval.iwae_k={args.iwae_k}", f"eval.iwae_chunk={args.iwae_chunk}",
                             f"seed={args.seed}", *args.set])
    return config


def run_genjax(args) -> dict:
    import jax
    import numpy as np

    from genjax.app.experiment import build_objective
    from genjax.app.training import configure_jax
    from genjax.core.loop import run_keys
    from genjax.core.step import make_train_step
    from genjax.data import Batches, dataset_spec
    from genjax.data.pipeline import ArraySource, images_to_float, load_arrays

    configure_jax()
    config = _genjax_config(args)
    vae = build_objective(config, dataset_spec("mnist_subset"))
    train = Batches(ArraySource(load_arrays("mnist_subset", "train")), config.train.batch_size,
                    config.seed, shuffle=True, transform=images_to_float())
    sets = _eval_sets(args.seed, args.train_eval)
    keys = run_keys(config.seed)
    state = jax.jit(vae.init)(keys["init"], train.batch(0))
    step = make_train_step(vae)
    elbo_fn = jax.jit(vae.eval_metrics)

    def elbo_of(name):
        x = sets[name]
        rows = [elbo_fn(state, {"image": x[i:i + 500]}, jax.random.fold_in(keys["eval"], i))
                for i in range(0, len(x), 500)]
        return float(np.mean([r["elbo"] for r in jax.device_get(rows)]))

    steps = config.train.steps
    times, losses, t_start, cpu_start = [], [], time.perf_counter(), time.process_time()
    for i in range(steps):
        batch = train.batch(i)
        t0 = time.perf_counter()
        state, metrics = step(state, batch, keys["train"])
        losses.append(metrics["loss"])
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - t0)
        if args.curve and ((i + 1) % args.curve == 0 or i + 1 == steps):
            print(f"step {i + 1} s {time.perf_counter() - t_start:.0f} train_loss "
                  f"{float(np.mean(jax.device_get(losses[-args.curve:]))):.2f} "
                  f"train_elbo {elbo_of('train'):.2f} test_elbo {elbo_of('test'):.2f}",
                  file=sys.stderr, flush=True)
    train_s, cpu_s = time.perf_counter() - t_start, time.process_time() - cpu_start
    metrics_fn = jax.jit(vae.test_metrics)
    out = {"steps": steps, "ms_per_step": 1e3 * float(np.median(times[10:])),
           "train_s": train_s, "train_cpu_s": cpu_s}
    for name, x in sets.items():
        t0 = time.perf_counter()
        rows = jax.device_get([metrics_fn(state, {"image": x[i:i + args.eval_batch]},
                                          jax.random.fold_in(keys["eval"], i))
                               for i in range(0, len(x), args.eval_batch)])
        out[f"{name}_eval_s"] = time.perf_counter() - t0
        out[f"{name}_elbo"] = float(np.mean([r["elbo"] for r in rows]))
        out[f"{name}_nll"] = float(np.mean([r[f"nll_iwae_{args.iwae_k}"] for r in rows]))
        print(f"{name}: -elbo {-out[f'{name}_elbo']:.2f} nll {out[f'{name}_nll']:.2f} "
              f"({out[f'{name}_eval_s']:.0f} s)", file=sys.stderr, flush=True)
    return out


# -- PyTorch --------------------------------------------------------------------------------
def _torch_mlp_vae(latent: int = 20, hidden: int = 400):
    """The PyTorch examples VAE, 784-400-20, its encoder taking {-1, 1} images (B, 1, 28, 28)
    as ``vae_reference.torch_iwae`` feeds them (mapped back to {0, 1} inside, as the examples
    feed pixels in [0, 1]); the decoder giving logits (N, 1, 28, 28)."""
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, hidden)
            self.fc2 = nn.Linear(hidden, 2 * latent)

        def forward(self, x):
            h = self.fc1(((x + 1) / 2).flatten(1)).relu()
            return self.fc2(h).chunk(2, dim=-1)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc3 = nn.Linear(latent, hidden)
            self.fc4 = nn.Linear(hidden, 784)

        def forward(self, z):
            return self.fc4(self.fc3(z).relu()).view(-1, 1, 28, 28)

    return Encoder(), Decoder()


def run_torch(args) -> dict:
    import numpy as np
    import torch
    from vae_reference import _torch_log_px, torch_iwae

    from genjax.data import Batches
    from genjax.data.pipeline import ArraySource, images_to_float, load_arrays

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    enc, dec = _torch_mlp_vae()
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    source = ArraySource(load_arrays("mnist_subset", "train"))
    train = Batches(source, TORCH_BATCH, args.seed, shuffle=True, transform=images_to_float())
    steps = math.ceil(EPOCHS * len(source) / TORCH_BATCH)
    if args.torch_steps:
        steps = args.torch_steps

    def step(x01):
        x = torch.bernoulli(x01)
        mean, log_var = enc(x * 2 - 1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(-1)
        loss = (kl - _torch_log_px(dec, z, x)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    times, t_start, cpu_start = [], time.perf_counter(), time.process_time()
    for i in range(steps):
        x01 = torch.from_numpy((train.batch(i)["image"] + 1) / 2).permute(0, 3, 1, 2)
        t0 = time.perf_counter()
        step(x01.contiguous())
        times.append(time.perf_counter() - t0)
    out = {"steps": steps, "ms_per_step": 1e3 * float(np.median(times[10:])),
           "train_s": time.perf_counter() - t_start, "train_cpu_s": time.process_time() - cpu_start}
    with torch.no_grad():
        for name, x in _eval_sets(args.seed, args.train_eval).items():
            t0 = time.perf_counter()
            x01 = torch.from_numpy((x + 1) / 2).permute(0, 3, 1, 2).contiguous()
            elbos, bounds = [], []
            for i in range(0, len(x01), args.eval_batch):
                elbo, bound = torch_iwae(enc, dec, x01[i:i + args.eval_batch], args.iwae_k,
                                         args.iwae_chunk)
                elbos.append(elbo.mean().item())
                bounds.append(bound.mean().item())
            out[f"{name}_eval_s"] = time.perf_counter() - t0
            out[f"{name}_elbo"] = float(np.mean(elbos))
            out[f"{name}_nll"] = -float(np.mean(bounds))
    return out


def _row(name: str, r: dict) -> str:
    return (f"| {name} | {r['steps']} | {r['ms_per_step']:.1f} | {r['train_s']:.0f} | "
            f"{r['train_cpu_s']:.0f} | "
            f"{-r['train_elbo']:.2f} | {r['train_nll']:.2f} | {-r['test_elbo']:.2f} | "
            f"**{r['test_nll']:.2f}** | {r['test_nll'] - r['train_nll']:+.2f} | "
            f"{r['test_eval_s'] + r['train_eval_s']:.0f} |")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="vae_mnist_best")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override of the genjax run (repeatable)")
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--iwae-chunk", type=int, default=8192)
    parser.add_argument("--eval-batch", type=int, default=100)
    parser.add_argument("--train-eval", type=int, default=1000,
                        help="training digits scored for the train NLL (evenly spaced)")
    parser.add_argument("--curve", type=int, default=0,
                        help="genjax: print train/test one-sample ELBO every N steps")
    parser.add_argument("--torch-steps", type=int, default=0,
                        help="torch steps (0: 100 epochs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--only", choices=("genjax", "torch"))
    return parser


def main() -> None:
    args = _parser().parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
    variants = (args.only,) if args.only else ("genjax", "torch")
    results = {}
    t0 = time.perf_counter()
    for variant in variants:
        cmd = [sys.executable, __file__, "--worker", variant] + sys.argv[1:]
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if out.returncode or not line:
            sys.exit(f"{variant} failed:\n{out.stdout[-2000:]}")
        results[variant] = json.loads(line[-1][len("RESULT "):])
    k = args.iwae_k
    print(f"VAE test NLL on mnist_subset ({args.config} {' '.join(args.set)}), "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {args.threads} threads, "
          f"wall {time.perf_counter() - t0:.0f} s, load average {os.getloadavg()[0]:.1f}")
    print(f"| variant | steps | ms/step | train s | train CPU s | train -ELBO | train NLL "
          f"| test -ELBO | test NLL (IWAE k={k}) | test - train | eval s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = {"genjax": f"genjax {args.config}",
             "torch": "torch MLP 784-400-20 (Adam 1e-3, batch 128)"}
    for variant, r in results.items():
        print(_row(names[variant], r))
    if len(results) == 2:
        g, t = results["genjax"]["test_nll"], results["torch"]["test_nll"]
        print(f"test NLL: genjax {g:.2f}, torch {t:.2f} (target: <= 95 and below torch): "
              f"{'PASS' if g <= 95 and g < t else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **results}, indent=2))


def worker() -> None:
    """``--worker VARIANT ARGS...``: one framework's run, printing ``RESULT {json}``."""
    variant, args = sys.argv[2], _parser().parse_args(sys.argv[3:])
    result = run_genjax(args) if variant == "genjax" else run_torch(args)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        worker()
    else:
        main()
