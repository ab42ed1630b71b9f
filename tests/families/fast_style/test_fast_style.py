"""fast_style: the transformer network's layout, the style targets against float64 NumPy, and
build's refusals. (Training, resuming, reconstruction grids and `genjax eval` are the
registry's contract test: tests/families/test_contract.py -k fast_style.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.config import ConfigError
from genjax.families.fast_style.network import TransformerNet


def test_transformer_net_has_johnsons_parameter_count_and_keeps_the_shape():
    net = TransformerNet()  # F = 32, R = 5
    x = jnp.zeros((1, 16, 16, 3))
    params = jax.eval_shape(net.init, jax.random.PRNGKey(0), x)["params"]
    # PyTorch's examples/fast_neural_style TransformerNet (affine InstanceNorm): 1,679,235
    assert sum(np.prod(p.shape) for p in jax.tree_util.tree_leaves(params)) == 1_679_235
    small = TransformerNet(features=4, residual_blocks=1)
    x = jax.random.uniform(jax.random.PRNGKey(1), (2, 20, 12, 3), minval=-1, maxval=1)
    y = jax.jit(small.apply)(jax.jit(small.init)(jax.random.PRNGKey(0), x), x)
    assert y.shape == x.shape and float(jnp.abs(y).max()) < 1
    with pytest.raises(ValueError, match="divisible by 4"):
        jax.eval_shape(small.init, jax.random.PRNGKey(0), jnp.zeros((1, 18, 16, 3)))


def _conv_relu_reference(image01: np.ndarray, kernel: np.ndarray, bias: np.ndarray):
    """conv1_1 + ReLU in float64: ImageNet normalisation, zero padding 1, a 3x3 conv."""
    x = (image01 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    h, w, _ = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel.shape[-1]))
    for i in range(3):
        for j in range(3):
            out += padded[i:i + h, j:j + w] @ kernel[i, j]
    return np.maximum(out + bias, 0.0)


def test_style_grams_are_the_style_pictures_in_float64(tmp_path, monkeypatch):
    from PIL import Image

    from genjax.app.experiment import build
    from genjax.families.fast_style.config import smallest_config
    from genjax.nn.vgg import random_variables

    picture = np.random.default_rng(0).integers(0, 256, (24, 16, 3), dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "style.png")
    config = smallest_config()
    config.model.style_image = str(tmp_path / "style.png")
    config.model.style_size = 24  # the picture's own size: no resampling
    objective = build(config).objective
    weights = random_variables()["params"]["conv1_1"]
    f = _conv_relu_reference(picture / 255.0, weights["kernel"].astype(np.float64),
                             weights["bias"].astype(np.float64)).reshape(-1, 64)
    want = f.T @ f / f.size  # F^T F / (C H W)
    got = objective.frozen.tree["grams"]["relu1_1"][0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
    # only the convolutions up to the deepest layer are held (relu1_2: two)
    assert sorted(objective.frozen.tree["vgg"]["params"]) == ["conv1_1", "conv1_2"]


def test_each_small_adam_step_lowers_the_perceptual_loss():
    """At a small learning rate an Adam step moves each parameter by about -lr sign(grad): to
    first order the loss falls by lr * sum |grad| (here 147.8 -> 138.6 -> 130.2)."""
    from genjax.app.experiment import build
    from genjax.families.fast_style.config import smallest_config

    config = smallest_config()
    config.optim.lr = 1e-4
    objective = build(config).objective
    batch = {"image": jnp.asarray(
        np.random.default_rng(1).uniform(-1, 1, (2, 64, 64, 3)), jnp.float32)}
    state = objective.init(jax.random.PRNGKey(0), batch)
    step, metrics = jax.jit(objective.train_step), jax.jit(objective.eval_metrics)
    losses = [float(metrics(state, batch, jax.random.PRNGKey(0))["loss"])]
    for i in range(2):
        state, _ = step(state, batch, jax.random.PRNGKey(i))
        last = metrics(state, batch, jax.random.PRNGKey(0))
        losses.append(float(last["loss"]))
    assert losses[2] < losses[1] < losses[0], losses
    np.testing.assert_allclose(  # the total is the weighted sum of the reported terms
        float(last["loss"]), float(last["content"] + 1e6 * last["style"] + 10 * last["tv"]),
        rtol=1e-5)


@pytest.mark.parametrize("change, message", [
    ({"data.name": "digits"}, "RGB pictures"),
    ({"model.style_layers": "relu1_1,relu9_1"}, "model.style_layers: unknown VGG-19 layer"),
    ({"model.style_size": 0}, "model.style_size 0"),
    ({"model.tv_weight": -1.0}, "model.tv_weight must be a finite number >= 0"),
    ({"model.vgg_input": "bgr"}, "model.vgg_input must be one of"),
])
def test_build_refuses_bad_configs(change, message):
    from genjax.app.experiment import build
    from genjax.families.fast_style.config import smallest_config

    config = smallest_config()
    for key, value in change.items():
        section, name = key.split(".")
        config[section][name] = value
    with pytest.raises(ConfigError, match=message):
        build(config)
