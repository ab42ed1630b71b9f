"""Time FID, KID and PRDC on N x D features (CPU) against the reference tools' NumPy code.

    flock /tmp/genjax-bench.lock python benchmarks/eval_speed.py --n 10000 --dim 128

References, run in the same process on the same features (what the reference tools do):
FID as pytorch-fid (``np.cov`` + ``scipy.linalg.sqrtm(S1 @ S2)``), KID as clean-fid /
StyleGAN's ``kernel_distance`` (NumPy float32 per subset), precision/recall/density/coverage
as the ``prdc`` package (full ``sklearn.metrics.pairwise_distances`` matrices). genjax times
are warm (a first call compiles; its time is printed separately). Prints a Markdown table and
both implementations' values.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg
import sklearn.metrics

from genjax.metrics import fid_from_features, kid, prdc


def _ref_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(s1 @ s2))
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _ref_kid(a: np.ndarray, b: np.ndarray, num_subsets: int, m: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    n = a.shape[1]
    t = 0.0
    for _ in range(num_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        kxy = (x @ y.T / n + 1) ** 3
        t += (kxx.sum() - np.diag(kxx).sum()) / (m - 1) - kxy.sum() * 2 / m
    return float(t / num_subsets / m)


def _ref_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    def radii(x):
        d = sklearn.metrics.pairwise_distances(x, metric="euclidean")
        return np.partition(d, k, axis=1)[:, k]  # (k+1)-th smallest counting the point itself

    rr, fr = radii(real), radii(fake)
    d = sklearn.metrics.pairwise_distances(real, fake, metric="euclidean")
    inside = d < rr[:, None]
    return {"precision": float(inside.any(0).mean()),
            "recall": float((d < fr[None, :]).any(1).mean()),
            "density": float(inside.sum(0).mean() / k),
            "coverage": float((d.min(1) < rr).mean())}


def _time(fn, repeats: int = 1):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(args.n, args.dim)), 0).astype(np.float32)  # ReLU-like
    b = np.maximum(rng.normal(size=(args.n, args.dim)) * 1.1 + 0.05, 0).astype(np.float32)
    ks, km = args.kid_subsets, args.kid_subset_size

    rows = []
    jobs = [
        ("FID", lambda: fid_from_features(a, b), lambda: _ref_fid(a.astype(np.float64),
                                                                  b.astype(np.float64))),
        (f"KID ({ks} x {km})", lambda: kid(a, b, ks, km, seed=0)[0],
         lambda: _ref_kid(a, b, ks, km, seed=0)),
        ("PRDC (k=5)", lambda: prdc(a, b, k=5), lambda: _ref_prdc(a, b, 5)),
    ]
    for name, ours, ref in jobs:
        first, _ = _time(ours)
        warm, val = _time(ours)
        ref_t, ref_val = _time(ref)
        rows.append((name, first, warm, ref_t, val, ref_val))
    print(f"N = {args.n} per set, D = {args.dim}, CPU")
    print("| metric | genjax first call s | genjax warm s | reference s | warm / reference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, first, warm, ref_t, _, _ in rows:
        print(f"| {name} | {first:.2f} | {warm:.2f} | {ref_t:.2f} | {warm / ref_t:.2f}x |")
    print()
    for name, _, _, _, val, ref_val in rows:
        print(f"{name}: genjax {val}  reference {ref_val}")


if __name__ == "__main__":
    main()
