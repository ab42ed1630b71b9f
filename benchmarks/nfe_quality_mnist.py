"""Sample quality against network evaluations (NFE) on the embedded MNIST digits: the chart.

    genjax train cm_mnist --workdir runs/nfe/cm              # and ddpm / edm / flow: same UNet
    python benchmarks/nfe_quality_mnist.py --runs ddpm=runs/nfe/ddpm edm=runs/nfe/edm \\
        flow=runs/nfe/flow cm=runs/nfe/cm --num 500 --results runs/nfe/nfe_mnist.json \\
        --plot docs/nfe_vs_quality.png

Every run folder is sampled (its EMA parameters, ``--num`` samples, one fixed key per
sampler and NFE) by each sampler of its family at about each target NFE (the table of
``nfe_quality_2d.py``: DDIM and DPM-Solver++(2M) for ddpm, Heun and Euler for edm, Euler,
Heun and RK4 for flow, 1 and 2 steps for cm), and scored by the domain digit classifier
``genjax eval`` uses (trained once on the train split and cached; ``--classifier`` gives a
run folder instead): domain FID, KID, precision and recall of the samples' penultimate
features against the 1,000 test digits. The real-vs-real floor is the same metrics of
``--num`` train digits (evenly spaced over the split) against the test digits.

Results are kept in ``--results`` (JSON) as they come, so a run trained later is added by a
second call and finished points are not redrawn; ``--plot`` draws the chart from them
(``--plot-only``: without sampling).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from nfe_quality_2d import FAMILY_SAMPLERS, NFE

FLOOR = "real train vs real test (floor)"


def features(network, images: np.ndarray) -> np.ndarray:
    return np.concatenate([network(images[i:i + 500])[0] for i in range(0, len(images), 500)])


def scores(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> dict[str, float]:
    from genjax.metrics import fid_from_features, kid, precision_recall

    precision, recall = precision_recall(real, fake)
    return {"fid": float(fid_from_features(real, fake)),
            "kid": float(kid(real, fake, seed=seed)[0]),
            "precision": float(precision), "recall": float(recall)}


def real_sets(num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test images, labels and ``num`` evenly spaced train images, in [-1, 1]."""
    from genjax.data import load_arrays
    from genjax.data.pipeline import floor_rows, images_to_float

    train = images_to_float()(load_arrays("mnist_subset", "train"))["image"]
    test = images_to_float()(load_arrays("mnist_subset", "test"))
    return test["image"], test["label"], train[floor_rows(len(train), num)]


def sample_run(run: Path, family: str, nfes: list[int], num: int, done: dict, network,
               real: np.ndarray, save) -> None:
    """Every (sampler, NFE) point of one run that ``done`` lacks, scored and saved."""
    import jax

    from genjax.app.experiment import load_run
    from genjax.app.sampling import draw_samples

    config, experiment, state = load_run(run)
    if config.family != family:
        raise SystemExit(f"{run} holds a {config.family!r} run, not {family!r}")
    for label, options_for in FAMILY_SAMPLERS[family]:
        for target in nfes:
            point = options_for(target, experiment.objective)
            if point is None:
                continue
            options, nfe = point
            key = f"{label}|{nfe}"
            if key in done:
                continue
            t0 = time.perf_counter()
            samples = draw_samples(experiment.objective, state, jax.random.PRNGKey(nfe), num,
                                   chunk=250, options=options)
            seconds = time.perf_counter() - t0
            row = {"label": label, "nfe": nfe, "options": options, "run": str(run),
                   "step": int(state.step), "num": num, "sample_seconds": round(seconds, 1),
                   **scores(real, features(network, samples))}
            done[key] = row
            save()
            print(f"{label} NFE {nfe}: FID {row['fid']:.1f} recall {row['recall']:.3f} "
                  f"precision {row['precision']:.3f} ({seconds:.0f} s)", flush=True)


def print_table(done: dict) -> None:
    labels = list(dict.fromkeys(r["label"] for k, r in done.items() if k != FLOOR))
    nfes = sorted({r["nfe"] for k, r in done.items() if k != FLOOR})
    print("\nDomain FID (recall) against NFE:\n")
    print("| sampler | " + " | ".join(f"NFE {n}" for n in nfes) + " |")
    print("| --- |" + " ---: |" * len(nfes))
    for label in labels:
        cells = []
        for n in nfes:
            r = done.get(f"{label}|{n}")
            cells.append(f"{r['fid']:.1f} ({r['recall']:.2f})" if r else "")
        print(f"| {label} | " + " | ".join(cells) + " |")
    if FLOOR in done:
        f = done[FLOOR]
        print(f"| {FLOOR} | {f['fid']:.1f} ({f['recall']:.2f}) at any NFE |")


def plot(done: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), dpi=110)
    ax_fid, ax_rec = fig.subplots(1, 2)
    from matplotlib import colormaps

    labels = list(dict.fromkeys(r["label"] for k, r in done.items() if k != FLOOR))
    colors = colormaps["tab20"].colors  # one colour per sampler (the default cycle has 10)
    for i, label in enumerate(labels):
        rows = sorted((r for k, r in done.items() if k != FLOOR and r["label"] == label),
                      key=lambda r: r["nfe"])
        x = [r["nfe"] for r in rows]
        style = "o-" if len(x) > 1 else "s"
        color = colors[(2 * i) % 20 + (2 * i) // 20 % 2]
        ax_fid.plot(x, [r["fid"] for r in rows], style, label=label, ms=4, color=color)
        ax_rec.plot(x, [r["recall"] for r in rows], style, label=label, ms=4, color=color)
    if FLOOR in done:
        for ax, name in ((ax_fid, "fid"), (ax_rec, "recall")):
            ax.axhline(done[FLOOR][name], color="k", ls="--", lw=1, label="real-vs-real floor")
    num = next(iter(done.values()))["num"]
    for ax, title in ((ax_fid, f"domain FID ({num} samples; lower is better)"),
                      (ax_rec, "domain recall (higher is better)")):
        ax.set_xscale("log")
        ax.set_xlabel("network evaluations (NFE)")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    ax_fid.set_yscale("log")
    ax_rec.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="*", default=[], metavar="FAMILY=DIR",
                        help="trained run folders, e.g. ddpm=runs/nfe/ddpm")
    parser.add_argument("--num", type=int, default=500, help="samples per point")
    parser.add_argument("--nfe", type=int, nargs="+", default=list(NFE))
    parser.add_argument("--classifier", default="", help="a classifier_mnist run folder "
                        "(default: the one genjax eval trains and caches)")
    parser.add_argument("--results", type=Path, default=Path("nfe_mnist.json"))
    parser.add_argument("--plot", type=Path, default=None, help="write the chart here (.png)")
    parser.add_argument("--plot-only", action="store_true")
    args = parser.parse_args()

    done = json.loads(args.results.read_text()) if args.results.exists() else {}

    def save() -> None:
        args.results.write_text(json.dumps(done, indent=1) + "\n")

    if not args.plot_only:
        from genjax.app.domain import domain_classifier_dir, load_domain_network
        from genjax.app.training import configure_jax

        configure_jax()
        test, labels, train = real_sets(args.num)
        network = load_domain_network(domain_classifier_dir("mnist_subset", "",
                                                            args.classifier), test, labels)
        print(f"domain classifier: {network.run_dir}, test accuracy "
              f"{network.test_accuracy:.4f}", flush=True)
        real = features(network, test)
        if FLOOR not in done or done[FLOOR]["num"] != args.num:
            done[FLOOR] = {"label": FLOOR, "num": args.num,
                           **scores(real, features(network, train))}
            save()
        for spec in args.runs:
            family, _, run = spec.partition("=")
            if family not in FAMILY_SAMPLERS or not run:
                raise SystemExit(f"--runs takes FAMILY=DIR with FAMILY one of "
                                 f"{', '.join(FAMILY_SAMPLERS)}; got {spec!r}")
            sample_run(Path(run), family, args.nfe, args.num, done, network, real, save)
    print_table(done)
    if args.plot:
        plot(done, args.plot)
        print(f"\nchart: {args.plot}")


if __name__ == "__main__":
    main()
