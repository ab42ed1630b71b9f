"""Converted-weight files checked against the module's variable shapes."""

import numpy as np

from genjax.core.weights import checked_variables


def test_missing_misshapen_and_unexpected_arrays_are_each_named():
    shapes = {("conv", "kernel"): (3, 3, 1, 2), ("conv", "bias"): (2,), ("head", "w"): (4,)}
    arrays = {"conv/kernel": np.ones((3, 3, 1, 2), np.float64), "conv/bias": np.ones(3),
              "extra": np.zeros(1)}
    flat, problems = checked_variables(arrays, shapes)
    assert list(flat) == [("conv", "kernel")] and flat[("conv", "kernel")].dtype == np.float32
    assert problems == ["conv/bias: shape (3,), expected (2,)", "head/w: missing, expected (4,)",
                        "unexpected extra"]
    assert "extra" in arrays  # the caller's mapping is left as it was
    flat, problems = checked_variables({"conv/bias": np.ones(2)}, {("conv", "bias"): (2,)})
    assert problems == [] and np.array_equal(flat[("conv", "bias")], np.ones(2))
