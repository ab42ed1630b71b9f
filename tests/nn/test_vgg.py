"""VGG-19 feature network: torchvision layout, conversion, caching, numerics vs a PyTorch forward.

torchvision cannot be installed beside our torch wheel, so the reference below rebuilds
``torchvision.models.vgg19().features`` by hand from plain ``torch.nn`` layers (the same
Sequential, hence the same ``features.N.*`` state-dict keys), written independently of
genjax/nn/vgg.py. Random weights stand in for vgg19-dcbe5bb1.pth, which cannot be downloaded.
"""

from __future__ import annotations

import sys

import jax
import numpy as np
import pytest

from genjax.nn import vgg

# torchvision's cfgs["E"] (VGG-19): channels, "M" = max pool
CFG_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"]


def state_dict_spec() -> dict[str, tuple[int, ...]]:
    """``features.N.weight/bias`` of torchvision's vgg19, from CFG_E."""
    spec, index, cin = {}, 0, 3
    for v in CFG_E:
        if v == "M":
            index += 1
            continue
        spec[f"features.{index}.weight"] = (v, cin, 3, 3)
        spec[f"features.{index}.bias"] = (v,)
        index, cin = index + 2, v
    return spec


def random_state_dict(seed: int = 0) -> dict[str, np.ndarray]:
    """He-scaled kernels and small biases (activations stay O(1) through 16 layers), plus a
    classifier the conversion must ignore (shrunk: its shapes are not read)."""
    rng = np.random.default_rng(seed)
    sd = {}
    for key, shape in state_dict_spec().items():
        if key.endswith("weight"):
            sd[key] = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape).astype(np.float32)
        else:
            sd[key] = rng.normal(0, 0.05, shape).astype(np.float32)
    sd["classifier.0.weight"] = np.zeros((4, 8), np.float32)
    sd["classifier.6.bias"] = np.zeros((1000,), np.float32)
    return sd


@pytest.fixture(scope="module")
def state_dict():
    return random_state_dict()


# name of a layer -> its index in torchvision's features Sequential, written out by hand
REFERENCE_INDEX = {"conv1_1": 0, "relu1_1": 1, "relu1_2": 3, "pool1": 4, "relu2_1": 6,
                   "pool2": 9,
                   "conv3_1": 10, "relu3_1": 11, "relu4_1": 20, "conv4_2": 21, "relu4_2": 22,
                   "relu5_1": 29, "relu5_4": 35, "pool5": 36}


def test_layer_names_follow_torchvision_indices():
    index = dict(vgg.LAYERS)
    assert len(vgg.LAYERS) == 37 and len(vgg.CONV_NAMES) == 16
    for name, i in REFERENCE_INDEX.items():
        assert index[name] == i, name
    assert vgg.min_input_size(["relu1_1"]) == 1
    assert vgg.min_input_size(["conv4_2", "relu5_1"]) == 16
    assert vgg.min_input_size(["pool5"]) == 32
    with pytest.raises(ValueError, match="unknown VGG-19 layer.*relu6_1.*choose from"):
        vgg.check_layers(["relu1_1", "relu6_1"])


def test_convert_state_dict(state_dict):
    variables = vgg.convert_state_dict(state_dict)
    params = variables["params"]
    assert sorted(params) == sorted(vgg.CONV_NAMES)
    for name in vgg.CONV_NAMES:
        i = REFERENCE_INDEX.get(name, dict(vgg.LAYERS)[name])
        np.testing.assert_array_equal(params[name]["kernel"],
                                      state_dict[f"features.{i}.weight"].transpose(2, 3, 1, 0))
        np.testing.assert_array_equal(params[name]["bias"], state_dict[f"features.{i}.bias"])
    n = sum(x.size for x in jax.tree_util.tree_leaves(variables))
    assert n == 20_024_384  # torchvision's vgg19 features: 20,024,384 parameters


def test_convert_rejects_other_networks(state_dict):
    vgg16_like = {k: v for k, v in state_dict.items() if k not in ("features.34.weight",
                                                                   "features.34.bias")}
    with pytest.raises(vgg.VGGWeightsError, match=r"missing features\.34\.weight"):
        vgg.convert_state_dict(vgg16_like)
    bn_like = dict(state_dict, **{"features.1.running_mean": np.zeros(64, np.float32)})
    with pytest.raises(vgg.VGGWeightsError, match=r"unexpected features\.1\.running_mean"):
        vgg.convert_state_dict(bn_like)
    wrong = dict(state_dict, **{"features.0.weight": np.zeros((64, 1, 3, 3), np.float32)})
    with pytest.raises(vgg.VGGWeightsError, match=r"features\.0\.weight: converted shape"):
        vgg.convert_state_dict(wrong)


def test_normalize_matches_numpy():
    x = np.random.default_rng(4).uniform(0, 1, (1, 3, 2, 3))
    want = (x - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(np.asarray(vgg.normalize(x)), want, rtol=1e-5, atol=1e-5)
    caffe = x[..., ::-1] * 255 - np.array([103.939, 116.779, 123.68])
    np.testing.assert_allclose(np.asarray(vgg.normalize(x, "caffe")), caffe, atol=1e-3)
    with pytest.raises(ValueError, match="input_norm must be one of torchvision, caffe"):
        vgg.normalize(x, "imagenet")


# --------------------------------------------------------------------------- vs torch

LAYERS = ("conv1_1", "relu2_1", "pool2", "conv3_1", "conv4_2", "relu5_1", "pool5")
# 40 x 36: odd sizes after the pools (5, 9), so the floor of MaxPool2d(2, 2) is exercised
IMAGES = np.random.default_rng(1).uniform(0, 1, (2, 40, 36, 3)).astype(np.float32)


def _torch_vgg19_features():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    layers, cin = [], 3
    for v in CFG_E:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            cin = v

    class VGG(nn.Module):  # the attribute name gives the "features." key prefix
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)

    return torch, VGG().eval()


@pytest.mark.parametrize("input_norm", ["torchvision", "caffe"])
def test_matches_pytorch_forward(state_dict, input_norm):
    torch, model = _torch_vgg19_features()
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == state_dict_spec()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict.items()
                           if k.startswith("features.")})
    x = torch.from_numpy(IMAGES.transpose(0, 3, 1, 2).copy())
    if input_norm == "torchvision":
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        x = (x - mean) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    else:  # RGB -> BGR, 0..255, less Caffe's BGR mean
        x = x.flip(1) * 255 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    want = {}
    with torch.no_grad():
        for i, layer in enumerate(model.features):
            x = layer(x)
            for name, index in REFERENCE_INDEX.items():
                if index == i and name in LAYERS:
                    want[name] = x.numpy().transpose(0, 2, 3, 1)
    net = vgg.VGG19Features(layers=LAYERS, input_norm=input_norm)
    got = net.apply(vgg.convert_state_dict(state_dict), IMAGES)  # eager: no VGG-19 compile
    assert set(got) == set(LAYERS)
    # Float32 through up to 16 convolutions summed in different orders by XLA and oneDNN:
    # ~1e-6 relative round-off per layer, so compare at 1e-4 of each layer's scale.
    for name in LAYERS:
        ref = want[name]
        assert got[name].shape == ref.shape, name
        err = float(np.abs(np.asarray(got[name]) - ref).max())
        scale = float(np.abs(ref).max())
        print(f"{input_norm} {name} {ref.shape}: max|flax - torch| = {err:.3g} "
              f"(max|torch| = {scale:.3g})")
        assert scale > 1e-2, name  # the random weights kept the activations alive
        assert err <= 1e-4 * scale, (name, err, scale)
    assert got["pool5"].shape == (2, 1, 1, 512) and got["pool2"].shape == (2, 10, 9, 128)


def test_stops_at_the_deepest_requested_layer(state_dict):
    variables = vgg.convert_state_dict(state_dict)
    shallow = vgg.VGG19Features(layers=("relu2_1",))
    params = jax.eval_shape(shallow.init, jax.random.PRNGKey(0), IMAGES[:1])["params"]
    assert sorted(params) == ["conv1_1", "conv1_2", "conv2_1"]
    out = shallow.apply(variables, IMAGES[:1])  # the full variables serve any layer set
    full = vgg.VGG19Features(layers=("relu2_1", "relu5_4")).apply(variables, IMAGES[:1])
    np.testing.assert_array_equal(np.asarray(out["relu2_1"]), np.asarray(full["relu2_1"]))


# --------------------------------------------------------------------------- weights files


def test_missing_weights_error_says_where_to_get_and_put_them(monkeypatch, tmp_path):
    monkeypatch.delenv(vgg.WEIGHTS_ENV, raising=False)
    for path in (None, tmp_path / "nope.pth"):
        with pytest.raises(vgg.VGGWeightsError) as info:
            vgg.load_vgg19(path)
        msg = str(info.value)
        for needed in (vgg.WEIGHTS_FILE, vgg.WEIGHTS_URL, vgg.WEIGHTS_ENV, "--vgg-weights"):
            assert needed in msg
    assert "nope.pth not found" in msg
    monkeypatch.setenv(vgg.WEIGHTS_ENV, str(tmp_path / "env.pth"))
    with pytest.raises(vgg.VGGWeightsError, match="env.pth not found"):
        vgg.load_vgg19()


def test_pth_without_torch_says_install_torch(monkeypatch, tmp_path):
    monkeypatch.setenv(vgg.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    pth = tmp_path / vgg.WEIGHTS_FILE
    pth.write_bytes(b"not read")
    with pytest.raises(vgg.VGGWeightsError, match=r"pip install torch==2\.13\.0"):
        vgg.load_vgg19(pth)


def test_pth_is_converted_once_then_cached(state_dict, monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv(vgg.CACHE_ENV, str(tmp_path / "cache"))
    pth = tmp_path / vgg.WEIGHTS_FILE
    torch.save({k: torch.from_numpy(v) for k, v in state_dict.items()}, pth)
    first = vgg.load_vgg19(pth)
    cached = vgg.cache_path(pth)
    assert cached.parent == tmp_path / "cache" / "vgg" and cached.is_file()
    monkeypatch.setitem(sys.modules, "torch", None)  # the second load must not need torch
    second = vgg.load_vgg19(pth)
    jax.tree_util.tree_map(np.testing.assert_array_equal, first, second)
    np.testing.assert_array_equal(second["params"]["conv4_2"]["kernel"],
                                  state_dict["features.21.weight"].transpose(2, 3, 1, 0))
    direct = vgg.load_vgg19(cached)  # the .npz itself can be given
    jax.tree_util.tree_map(np.testing.assert_array_equal, first, direct)


def test_wrong_npz_is_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"params/conv1_1/kernel": np.zeros((3, 3, 3, 8), np.float32)})
    with pytest.raises(vgg.VGGWeightsError, match="not a converted VGG-19 .npz"):
        vgg.load_vgg19(bad)


def test_random_weights_are_shaped_as_the_real_ones():
    variables = vgg.random_variables(seed=3)
    flat = {k: v.shape for k, v in jax.tree_util.tree_flatten_with_path(variables)[0]}
    assert len(flat) == 32
    kernel = variables["params"]["conv3_2"]["kernel"]
    assert kernel.shape == (3, 3, 256, 256)
    assert abs(kernel.std() - np.sqrt(2 / (9 * 256))) < 1e-3  # He normal
