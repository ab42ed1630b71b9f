"""The points modality: vectors such as the 2D mixtures, ``.npz`` and scatter plots, mode
coverage (modes captured, high-quality share, reverse KL; the PacGAN protocol)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genjax.data.pipeline import points_to_float
from genjax.modalities import Modality, Reading, sample_chunks, write_npz_rows


def save_points_plot(
    points: np.ndarray, path: str | Path, reference: np.ndarray | None = None,
    title: str | None = None,
) -> Path:
    """Writes a scatter plot of 2D samples (and optional reference points, e.g. modes) as PNG.

    Args:
      points: (N, 2) samples.
      path: the .png file to write.
      reference: optional (M, 2) points drawn as red crosses.
      title: the plot's title; default "N samples", with the step for the loop's
        ``step_XXXXXXX.png`` files.

    Returns:
      The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = points_figure(points, reference, title or _default_title(len(points), path))
    fig.savefig(path)
    return path


def _default_title(count: int, path: Path) -> str:
    step = path.stem[len("step_"):]
    return f"{count} samples" + (f" at step {int(step)}" if path.stem.startswith("step_")
                                 and step.isdigit() else "")


def points_figure(points: np.ndarray, reference: np.ndarray | None = None, title: str = ""):
    """The matplotlib figure of ``save_points_plot``: a titled scatter with labelled axes (a
    ``matplotlib.figure.Figure``, not pyplot's: drawing it leaves the caller's backend and
    pyplot's figures, e.g. a notebook's, alone)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.subplots()
    pts = np.asarray(points)
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, label="samples")
    if reference is not None:
        ref = np.asarray(reference)
        ax.scatter(ref[:, 0], ref[:, 1], marker="x", c="red", s=30, label="reference")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _write_npz(chunks, num: int, path: Path) -> None:
    """``points``: float32 (N, D), written chunk by chunk."""
    write_npz_rows(path, "points", (np.asarray(c, np.float32) for c in chunks), num)


class PointsModality(Modality):
    """Points (N, D); 2D ones are plotted, mixtures of ``genjax.data.toy2d`` scored by modes."""

    name = "points"
    batch_key = "point"
    metrics = ("modes",)

    def transform(self, spec, image_size=None):
        return points_to_float()

    def formats(self):
        return {".png": save_points_plot,  # a scatter plot
                ".npz": lambda samples, path: _write_npz([samples], len(samples), path)}

    def streamed_formats(self):
        return {".npz": _write_npz}

    def sample_quality(self, spec, samples, test_batches, names, context):
        from genjax.data.toy2d import MIXTURES, mixture
        from genjax.metrics import mode_coverage

        if spec.name not in MIXTURES:
            raise ValueError(f"no mode definition for points dataset {spec.name!r}; mode "
                             f"coverage knows {', '.join(MIXTURES)} (use --metrics none)")
        points = np.concatenate(list(sample_chunks(samples, context.num_samples,
                                             context.batch_size)))
        return mode_coverage(points, *mixture(spec.name)).as_dict()

    def readings(self):
        return {
            "modes": Reading("mixture modes with at least one high-quality sample",
                             "higher, up to num_modes"),
            "num_modes": Reading("modes of the mixture", ""),
            "high_quality": Reading("share of samples within 3 std of a mode centre",
                                    "higher (1.0 for the data itself)"),
            "reverse_kl": Reading("KL(sample mode shares || uniform modes)",
                                  "lower (0 for the data itself)"),
        }


MODALITY = PointsModality()
