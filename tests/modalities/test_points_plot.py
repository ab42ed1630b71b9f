"""The 2D scatter plot of the points modality: titled, axes labelled, the points drawn."""

import numpy as np
from PIL import Image

from genjax.modalities import modalities
from genjax.modalities.points import points_figure


def test_scatter_has_title_axis_labels_and_points(tmp_path):
    points = np.stack([np.linspace(-1, 1, 50), np.linspace(1, -1, 50)], 1)
    fig = points_figure(points, reference=np.zeros((1, 2)), title="50 samples at step 4")
    (ax,) = fig.axes
    assert ax.get_title() == "50 samples at step 4"
    assert ax.get_xlabel() == "x[0]" and ax.get_ylabel() == "x[1]"
    np.testing.assert_allclose(ax.collections[0].get_offsets(), points)

    (written,) = modalities()["points"].write_samples(points, tmp_path / "step_0000004")
    assert written.name == "step_0000004.png"
    pixels = np.asarray(Image.open(written).convert("RGB"))
    assert pixels.shape[:2] == (500, 500) and (pixels.min(-1) < 200).any()


def test_default_title_names_the_count_and_the_loop_step():
    from pathlib import Path

    from genjax.modalities.points import _default_title

    assert _default_title(16, Path("run/samples/step_0000040.png")) == "16 samples at step 40"
    assert _default_title(9, Path("out.png")) == "9 samples"
