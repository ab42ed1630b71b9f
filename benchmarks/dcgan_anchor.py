"""The DCGAN quality anchor: genjax runs against the same networks trained by PyTorch.

    python -m pip install -e ".[bench]"
    genjax train classifier_mnist --workdir runs/classifier     # the domain network
    genjax train dcgan_mnist --workdir runs/dcgan               # the default run (5 minutes)
    python benchmarks/dcgan_anchor.py --classifier runs/classifier --runs runs/dcgan \
        --torch-steps 1500 --out runs/dcgan_anchor

PyTorch side: ``benchmarks/torch_dcgan.py``'s networks and step (the PyTorch DCGAN tutorial's
recipe: non-saturating loss, Adam 2e-4 / betas (0.5, 0.999), batch 64, no EMA), trained for
``--torch-steps`` on the same ``mnist_subset`` train split (4,000 digits, padded to 32x32 with
the background value -1, in [-1, 1]), batches drawn as shuffled epochs with NumPy. It is
sampled twice, with BatchNorm in eval mode (running statistics, what genjax's sampler does)
and in train mode (batch statistics, what the tutorial's grids show); the table has both.

Every sample set (``--num`` samples; 10,000 as in the issue) is scored the same way against
the 1,000 test digits: the domain classifier's features give the domain FID, KID,
precision/recall and density/coverage; its argmax gives the class shares, the number of
classes with at least 5% of the samples and KL(shares || uniform). The first row is the
real-vs-real floor (the 4,000 train digits against the test digits). ``--torch-steps 0``
scores genjax runs only (the lever table). Prints Markdown tables; ``--out`` also gets the
torch samples' grid PNGs and a JSON of every row.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np
from eval_quality import print_table  # benchmarks/ (this script's folder)

from genjax.app.domain import load_domain_network
from genjax.app.experiment import load_run, read_saved_config
from genjax.app.sampling import draw_samples
from genjax.app.training import configure_jax
from genjax.config import apply_overrides
from genjax.data import load_arrays
from genjax.data.pipeline import images_to_float
from genjax.metrics.features import Embeddings, class_coverage, feature_metrics

NAMES = ("fid", "kid", "pr", "dc")
COLUMNS = ("domain_fid", "domain_kid_mean", "domain_precision", "domain_recall",
           "domain_coverage", "classes_5pct", "class_min_share", "class_kl_uniform",
           "train_s")


def embed_all(network, images: np.ndarray, batch: int = 500) -> Embeddings:
    out = Embeddings(keep_features=True)
    for i in range(0, len(images), batch):
        out.add(*network(images[i:i + batch]))
    return out


def score(network, real: Embeddings, images: np.ndarray, seed: int = 0) -> dict:
    """Domain metrics and class shares of ``images`` (N, 32, 32, 1) in [-1, 1]."""
    fake = embed_all(network, images)
    row = feature_metrics(real, fake, NAMES, "domain_", seed)
    row.update(class_coverage(fake.all_probs()))
    shares = np.asarray(row["class_shares"])
    row["classes_5pct"] = int(np.sum(shares >= 0.05))
    row["class_min_share"] = float(shares.min())
    return row


def train_torch(train_images: np.ndarray, steps: int, batch: int, seed: int):
    """The PyTorch DCGAN trained ``steps`` steps; returns (generator, seconds)."""
    import torch
    from torch_dcgan import LATENT_DIM, make_step

    step, (g, _) = make_step(batch, channels=1, seed=seed)
    data = torch.from_numpy(np.ascontiguousarray(train_images.transpose(0, 3, 1, 2)))
    rng = np.random.default_rng(seed)
    order, pos = rng.permutation(len(data)), 0
    t0 = time.perf_counter()
    for i in range(steps):
        if pos + batch > len(order):
            order, pos = rng.permutation(len(data)), 0
        d_loss, g_loss = step(data[order[pos:pos + batch]])
        pos += batch
        if (i + 1) % 100 == 0:
            print(f"torch step {i + 1}/{steps} d_loss {float(d_loss):.3f} "
                  f"g_loss {float(g_loss):.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    seconds = time.perf_counter() - t0
    g.latent_dim = LATENT_DIM
    return g, seconds


def torch_samples(g, num: int, seed: int, train_mode: bool) -> np.ndarray:
    import torch

    g.train(train_mode)
    gen = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        for i in range(0, num, 500):
            z = torch.randn(min(500, num - i), g.latent_dim, generator=gen)
            out.append(g(z).numpy().transpose(0, 2, 3, 1))
    return np.concatenate(out).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", required=True, help="classifier_mnist run folder")
    parser.add_argument("--runs", nargs="*", default=[], help="genjax GAN run folders")
    parser.add_argument("--torch-steps", type=int, default=1500,
                        help="PyTorch DCGAN steps (0: no PyTorch row)")
    parser.add_argument("--torch-batch", type=int, default=64)
    parser.add_argument("--torch-threads", type=int, default=2,
                        help="torch.set_num_threads (its wall time is reported, not compared)")
    parser.add_argument("--num", type=int, default=10_000, help="samples per row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="", help="folder for grids and rows.json")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="sampling-side config changes for the genjax runs, e.g. "
                             "gan.standing_stats=256 (a row per run with and without)")
    args = parser.parse_args()
    configure_jax()
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)

    to_float = images_to_float(32)
    train = to_float(load_arrays("mnist_subset", "train"))["image"]
    test = to_float(load_arrays("mnist_subset", "test"))
    network = load_domain_network(Path(args.classifier), test["image"], test["label"])
    print(f"domain classifier test accuracy {network.test_accuracy:.4f}")
    real = embed_all(network, test["image"])
    rows = {"real train digits (floor, 4,000)": score(network, real, train, args.seed)}

    if args.torch_steps:
        import torch

        torch.set_num_threads(args.torch_threads)
        g, seconds = train_torch(train, args.torch_steps, args.torch_batch, args.seed)
        for mode in ("eval", "train"):
            samples = torch_samples(g, args.num, args.seed, mode == "train")
            name = f"PyTorch DCGAN, {args.torch_steps} steps (BN {mode} mode)"
            rows[name] = {**score(network, real, samples, args.seed), "train_s": seconds}
            if out:
                from genjax.modalities.image import save_image_grid

                save_image_grid(samples[:64], out / f"torch_{mode}_mode.png")
    for run in args.runs:
        for changes in ([], args.set) if args.set else ([],):
            config = read_saved_config(Path(run))
            apply_overrides(config, changes)
            config, experiment, state = load_run(Path(run), config)
            t0 = time.perf_counter()
            samples = np.asarray(draw_samples(experiment.objective, state,
                                              jax.random.PRNGKey(args.seed), args.num))
            print(f"{run}: {args.num} samples in {time.perf_counter() - t0:.0f} s", flush=True)
            name = f"{run} ({int(state.step)} steps{', ' + ' '.join(changes) if changes else ''})"
            rows[name] = score(network, real, samples, args.seed)
            if out:
                from genjax.modalities.image import save_image_grid

                tag = "".join("_" + c.replace("=", "-") for c in changes)
                save_image_grid(samples[:64], out / f"{Path(run).name}{tag}.png")

    print()
    print_table(rows, COLUMNS, "samples")
    print("\n| samples | " + " | ".join(str(c) for c in range(10)) + " |")
    print("| --- |" + " ---: |" * 10)
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{100 * s:.1f}" for s in row["class_shares"]) + " |")
    if out:
        (out / "rows.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
