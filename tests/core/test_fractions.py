"""``core.state.check_fractions``: the [0, 1) check of EMA decays and dropout rates that the
objectives share, with the message naming the field."""

import pytest

from genjax.core.state import check_fractions


def test_values_in_zero_one_pass():
    check_fractions(ema_decay=0.0, label_dropout=0.999)


@pytest.mark.parametrize("value", [1.0, -0.1, float("nan")])
def test_the_first_bad_value_is_named(value):
    with pytest.raises(ValueError, match=rf"label_dropout must be in \[0, 1\), got {value}"):
        check_fractions(ema_decay=0.5, label_dropout=value)


def test_an_objective_refuses_a_bad_ema_decay():
    from genjax.families.edm import EDM
    from genjax.nn.mlp_denoiser import MLPDenoiser

    with pytest.raises(ValueError, match=r"ema_decay must be in \[0, 1\), got 1.5"):
        EDM(model=MLPDenoiser(), optimizer=None, data_shape=(2,), ema_decay=1.5)
