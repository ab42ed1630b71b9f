"""FID InceptionV3: weight conversion, forward shapes, numerics against a PyTorch reference.

The architecture spec and the PyTorch reference below are written independently of
genjax/metrics/inception.py, following pytorch-fid's ``fid_inception_v3`` (torchvision's
Inception3 with FIDInceptionA/C/E_1/E_2 blocks, num_classes=1008, no aux logits).
Random weights stand in for the real file, which cannot be downloaded here.
"""

from __future__ import annotations

import sys

import jax
import numpy as np
import pytest

from genjax.metrics import inception as inc

# --------------------------------------------------------------------------- spec

# (name, in_channels, out_channels, kh, kw) of every BasicConv2d, per block.


def _block_a(name, cin, pool):
    return [
        (f"{name}.branch1x1", cin, 64, 1, 1),
        (f"{name}.branch5x5_1", cin, 48, 1, 1),
        (f"{name}.branch5x5_2", 48, 64, 5, 5),
        (f"{name}.branch3x3dbl_1", cin, 64, 1, 1),
        (f"{name}.branch3x3dbl_2", 64, 96, 3, 3),
        (f"{name}.branch3x3dbl_3", 96, 96, 3, 3),
        (f"{name}.branch_pool", cin, pool, 1, 1),
    ]


def _block_c(name, c7):
    return [
        (f"{name}.branch1x1", 768, 192, 1, 1),
        (f"{name}.branch7x7_1", 768, c7, 1, 1),
        (f"{name}.branch7x7_2", c7, c7, 1, 7),
        (f"{name}.branch7x7_3", c7, 192, 7, 1),
        (f"{name}.branch7x7dbl_1", 768, c7, 1, 1),
        (f"{name}.branch7x7dbl_2", c7, c7, 7, 1),
        (f"{name}.branch7x7dbl_3", c7, c7, 1, 7),
        (f"{name}.branch7x7dbl_4", c7, c7, 7, 1),
        (f"{name}.branch7x7dbl_5", c7, 192, 1, 7),
        (f"{name}.branch_pool", 768, 192, 1, 1),
    ]


def _block_e(name, cin):
    return [
        (f"{name}.branch1x1", cin, 320, 1, 1),
        (f"{name}.branch3x3_1", cin, 384, 1, 1),
        (f"{name}.branch3x3_2a", 384, 384, 1, 3),
        (f"{name}.branch3x3_2b", 384, 384, 3, 1),
        (f"{name}.branch3x3dbl_1", cin, 448, 1, 1),
        (f"{name}.branch3x3dbl_2", 448, 384, 3, 3),
        (f"{name}.branch3x3dbl_3a", 384, 384, 1, 3),
        (f"{name}.branch3x3dbl_3b", 384, 384, 3, 1),
        (f"{name}.branch_pool", cin, 192, 1, 1),
    ]


CONVS = (
    [
        ("Conv2d_1a_3x3", 3, 32, 3, 3),
        ("Conv2d_2a_3x3", 32, 32, 3, 3),
        ("Conv2d_2b_3x3", 32, 64, 3, 3),
        ("Conv2d_3b_1x1", 64, 80, 1, 1),
        ("Conv2d_4a_3x3", 80, 192, 3, 3),
    ]
    + _block_a("Mixed_5b", 192, 32)
    + _block_a("Mixed_5c", 256, 64)
    + _block_a("Mixed_5d", 288, 64)
    + [
        ("Mixed_6a.branch3x3", 288, 384, 3, 3),
        ("Mixed_6a.branch3x3dbl_1", 288, 64, 1, 1),
        ("Mixed_6a.branch3x3dbl_2", 64, 96, 3, 3),
        ("Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3),
    ]
    + _block_c("Mixed_6b", 128)
    + _block_c("Mixed_6c", 160)
    + _block_c("Mixed_6d", 160)
    + _block_c("Mixed_6e", 192)
    + [
        ("Mixed_7a.branch3x3_1", 768, 192, 1, 1),
        ("Mixed_7a.branch3x3_2", 192, 320, 3, 3),
        ("Mixed_7a.branch7x7x3_1", 768, 192, 1, 1),
        ("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7),
        ("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1),
        ("Mixed_7a.branch7x7x3_4", 192, 192, 3, 3),
    ]
    + _block_e("Mixed_7b", 1280)
    + _block_e("Mixed_7c", 2048)
)


def state_dict_spec() -> dict[str, tuple[int, ...]]:
    """Key -> shape of pytorch-fid's FID Inception state dict (num_batches_tracked aside)."""
    spec = {}
    for name, cin, cout, kh, kw in CONVS:
        spec[f"{name}.conv.weight"] = (cout, cin, kh, kw)
        for stat in ("weight", "bias", "running_mean", "running_var"):
            spec[f"{name}.bn.{stat}"] = (cout,)
    spec["fc.weight"] = (1008, 2048)
    spec["fc.bias"] = (1008,)
    return spec


def random_state_dict(seed: int = 0) -> dict[str, np.ndarray]:
    """He-scaled convs and BN statistics near (0, 1), so activations stay O(1) in depth."""
    rng = np.random.default_rng(seed)
    sd = {}
    for key, shape in state_dict_spec().items():
        if key.endswith("conv.weight"):
            fan_in = int(np.prod(shape[1:]))
            sd[key] = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        elif key.endswith(("bn.weight", "running_var")):
            sd[key] = rng.uniform(0.5, 1.5, shape)
        elif key.endswith(("bn.bias", "running_mean")):
            sd[key] = rng.normal(0.0, 0.1, shape)
        elif key == "fc.weight":
            sd[key] = rng.normal(0.0, np.sqrt(1.0 / 2048), shape)
        else:
            sd[key] = rng.normal(0.0, 0.1, shape)
        sd[key] = sd[key].astype(np.float32)
        if key.endswith("bn.running_var"):
            sd[key.replace("running_var", "num_batches_tracked")] = np.asarray(0, np.int64)
    return sd


@pytest.fixture(scope="module")
def state_dict():
    return random_state_dict()


@pytest.fixture(scope="module")
def npz_weights(state_dict, tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "fid_inception_random.npz"
    return inc.save_variables(inc.convert_state_dict(state_dict), path)


IMAGES = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def flax_outputs(npz_weights):
    feature_fn = inc.make_feature_fn(npz_weights)
    out = feature_fn(IMAGES)
    return {k: np.asarray(v) for k, v in out.items()}


# --------------------------------------------------------------------------- (a) conversion


def test_convert_random_state_dict(state_dict):
    variables = inc.convert_state_dict(state_dict)
    params, stats = variables["params"], variables["batch_stats"]
    n = 0
    for name, *_ in CONVS:
        mod = name.split(".")
        p = params
        s = stats
        for m in mod:
            p, s = p[m], s[m]
        w = state_dict[f"{name}.conv.weight"]
        np.testing.assert_array_equal(p["conv"]["kernel"], np.transpose(w, (2, 3, 1, 0)))
        np.testing.assert_array_equal(p["bn"]["scale"], state_dict[f"{name}.bn.weight"])
        np.testing.assert_array_equal(p["bn"]["bias"], state_dict[f"{name}.bn.bias"])
        np.testing.assert_array_equal(s["bn"]["mean"], state_dict[f"{name}.bn.running_mean"])
        np.testing.assert_array_equal(s["bn"]["var"], state_dict[f"{name}.bn.running_var"])
        n += 1
    np.testing.assert_array_equal(params["fc"]["kernel"], state_dict["fc.weight"].T)
    np.testing.assert_array_equal(params["fc"]["bias"], state_dict["fc.bias"])
    assert n == 94  # conv layers of Inception-v3 without the aux head
    leaves = jax.tree_util.tree_leaves(variables)
    assert len(leaves) == 5 * n + 2
    assert sum(x.size for x in leaves) == 23_885_392


def test_convert_rejects_wrong_state_dicts(state_dict):
    missing = {k: v for k, v in state_dict.items() if k != "Mixed_6e.branch_pool.bn.bias"}
    with pytest.raises(inc.InceptionWeightsError, match=r"missing Mixed_6e\.branch_pool\.bn\.bias"):
        inc.convert_state_dict(missing)
    torchvision_like = dict(state_dict, **{"AuxLogits.fc.bias": np.zeros(1000, np.float32)})
    with pytest.raises(inc.InceptionWeightsError, match=r"unexpected AuxLogits\.fc\.bias"):
        inc.convert_state_dict(torchvision_like)
    wrong = dict(state_dict, **{"fc.weight": np.zeros((1000, 2048), np.float32)})
    with pytest.raises(inc.InceptionWeightsError, match=r"fc\.weight"):
        inc.convert_state_dict(wrong)


# --------------------------------------------------------------------------- (b) forward


def test_forward_shapes(flax_outputs):
    assert flax_outputs["pool"].shape == (2, 2048)
    assert flax_outputs["logits"].shape == (2, 1008)
    assert np.isfinite(flax_outputs["pool"]).all() and np.isfinite(flax_outputs["logits"]).all()
    assert (flax_outputs["pool"] >= 0).all()  # an average of ReLU outputs


def _bilinear_reference(x: np.ndarray, size: int) -> np.ndarray:
    """torch's bilinear, align_corners=False, written out in float64 (NHWC)."""

    def axis_weights(n_in):
        src = np.maximum((np.arange(size) + 0.5) * n_in / size - 0.5, 0.0)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = src - i0
        m = np.zeros((size, n_in))
        np.add.at(m, (np.arange(size), i0), 1 - lam)
        np.add.at(m, (np.arange(size), i1), lam)
        return m

    mh, mw = axis_weights(x.shape[1]), axis_weights(x.shape[2])
    rows = np.einsum("ph,nhwc->npwc", mh, x.astype(np.float64))
    return np.einsum("qw,npwc->npqc", mw, rows)


@pytest.mark.parametrize("shape", [(1, 7, 5, 1), (1, 331, 400, 3)])  # up (gray), down (RGB)
def test_preprocess_is_pytorch_fids_resize_and_scaling(shape):
    x = np.random.default_rng(2).uniform(-1, 1, shape).astype(np.float32)
    got = np.asarray(inc.preprocess(x))
    x01 = np.repeat((x + 1) / 2, 3, axis=-1) if shape[-1] == 1 else (x + 1) / 2
    want = 2 * _bilinear_reference(x01, 299) - 1
    assert got.shape == (1, 299, 299, 3)
    # jax (like torch) computes the sample positions in float32: ~400 * 6e-8 of round-off
    # in the interpolation weight, times pixel differences up to 2.
    np.testing.assert_allclose(got, want, atol=1e-4)
    q = np.asarray(inc.preprocess(np.clip(x * 1.5, -1, 1), size=8, quantize=True))
    assert q.shape == (1, 8, 8, 3) and np.abs(q).max() <= 1.0


def test_resize_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    for shape in [(2, 28, 28, 3), (1, 331, 400, 3)]:  # up (MNIST/CIFAR-like), down
        x01 = np.random.default_rng(3).uniform(0, 1, shape).astype(np.float32)
        ref = torch.nn.functional.interpolate(
            torch.from_numpy(x01.transpose(0, 3, 1, 2)), size=(299, 299), mode="bilinear",
            align_corners=False).numpy().transpose(0, 2, 3, 1)
        got = (np.asarray(inc.preprocess(2 * x01 - 1)) + 1) / 2
        np.testing.assert_allclose(got, ref, atol=1e-6)
        # jax's default antialias=True would blur when shrinking: not pytorch-fid's resize.
        blurred = jax.image.resize(x01, (shape[0], 299, 299, 3), "bilinear", antialias=True)
        assert (np.abs(np.asarray(blurred) - ref).max() > 0.1) == (shape[1] > 299)


# --------------------------------------------------------------------------- (c) vs torch


def _torch_reference():
    """pytorch-fid's FID Inception, written here from its definition (NCHW)."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class BasicConv2d(nn.Module):
        def __init__(self, cin, cout, **kw):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
            self.bn = nn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    def avg_tf(x):
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class A(nn.Module):
        def __init__(self, cin, pool):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
            self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
            self.branch_pool = BasicConv2d(cin, pool, kernel_size=1)

        def forward(self, x):
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(avg_tf(x))], 1)

    class B(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

        def forward(self, x):
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)

    class C(nn.Module):
        def __init__(self, c7):
            super().__init__()
            self.branch1x1 = BasicConv2d(768, 192, kernel_size=1)
            self.branch7x7_1 = BasicConv2d(768, c7, kernel_size=1)
            self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_1 = BasicConv2d(768, c7, kernel_size=1)
            self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch_pool = BasicConv2d(768, 192, kernel_size=1)

        def forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_1(x)
            for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                          self.branch7x7dbl_5):
                bd = layer(bd)
            return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(avg_tf(x))], 1)

    class D(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
            self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

        def forward(self, x):
            b3 = self.branch3x3_2(self.branch3x3_1(x))
            b7 = self.branch7x7x3_1(x)
            for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
                b7 = layer(b7)
            return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)

    class E(nn.Module):
        def __init__(self, cin, max_pool):
            super().__init__()
            self.max_pool = max_pool
            self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
            self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
            self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
            self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

        def forward(self, x):
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
            if self.max_pool:  # FIDInceptionE_2
                pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            else:  # FIDInceptionE_1
                pooled = avg_tf(x)
            return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pooled)], 1)

    class FIDInception(nn.Module):
        def __init__(self):
            super().__init__()
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
            self.Mixed_5b = A(192, 32)
            self.Mixed_5c = A(256, 64)
            self.Mixed_5d = A(288, 64)
            self.Mixed_6a = B(288)
            self.Mixed_6b = C(128)
            self.Mixed_6c = C(160)
            self.Mixed_6d = C(160)
            self.Mixed_6e = C(192)
            self.Mixed_7a = D(768)
            self.Mixed_7b = E(1280, max_pool=False)
            self.Mixed_7c = E(2048, max_pool=True)
            self.fc = nn.Linear(2048, 1008)

        def forward(self, images_01):
            """pytorch-fid's InceptionV3.forward (resize, normalize) plus the fc head."""
            x = F.interpolate(images_01, size=(299, 299), mode="bilinear", align_corners=False)
            x = 2 * x - 1
            x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
            x = F.max_pool2d(x, kernel_size=3, stride=2)
            for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
                x = getattr(self, f"Mixed_{name}")(x)
            pool = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
            return pool, self.fc(pool)

    return torch, FIDInception().eval()


def test_matches_pytorch_reference(state_dict, flax_outputs):
    torch, model = _torch_reference()
    ref_keys = {k: tuple(v.shape) for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")}
    assert ref_keys == state_dict_spec()  # the spec above is pytorch-fid's key set
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state_dict.items()})
    with torch.no_grad():
        x01 = torch.from_numpy((IMAGES.transpose(0, 3, 1, 2) + 1) / 2)
        pool, logits = (t.numpy() for t in model(x01))
    # Float32 through ~50 convolution layers, summed in different orders by XLA and
    # PyTorch/oneDNN: round-off of ~1e-6 relative per layer, so compare at 1e-4 of scale.
    for name, ref in (("pool", pool), ("logits", logits)):
        err = np.abs(flax_outputs[name] - ref).max()
        scale = np.abs(ref).max()
        print(f"{name}: max|flax - torch| = {err:.3g} (max|torch| = {scale:.3g})")
        assert scale > 1e-2  # random weights kept the activations alive
        assert err <= 1e-4 * scale, (name, err, scale)


# --------------------------------------------------------------------------- (d) errors


def test_missing_weights_error_says_where_to_get_and_put_them(monkeypatch, tmp_path):
    monkeypatch.delenv(inc.WEIGHTS_ENV, raising=False)
    for path in (None, tmp_path / "nope.pth"):
        with pytest.raises(inc.InceptionWeightsError) as info:
            inc.load_inception(path)
        msg = str(info.value)
        for needed in (inc.WEIGHTS_FILE, inc.WEIGHTS_URL, "GENJAX_INCEPTION_WEIGHTS",
                       "eval.inception_weights"):
            assert needed in msg
    assert "nope.pth not found" in msg
    monkeypatch.setenv(inc.WEIGHTS_ENV, str(tmp_path / "env.pth"))
    with pytest.raises(inc.InceptionWeightsError, match="env.pth not found"):
        inc.make_feature_fn()


def test_pth_without_torch_says_install_torch(monkeypatch, tmp_path):
    monkeypatch.setenv(inc.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    pth = tmp_path / inc.WEIGHTS_FILE
    pth.write_bytes(b"not read")
    with pytest.raises(inc.InceptionWeightsError, match=r"pip install torch==2\.13\.0"):
        inc.load_inception(pth)


# --------------------------------------------------------------------------- (e) caching


def test_npz_weights_load_directly(state_dict, npz_weights, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    module, variables = inc.load_inception(npz_weights)
    assert isinstance(module, inc.InceptionV3FID)
    np.testing.assert_array_equal(variables["params"]["fc"]["kernel"], state_dict["fc.weight"].T)
    np.testing.assert_array_equal(
        variables["batch_stats"]["Mixed_7c"]["branch_pool"]["bn"]["var"],
        state_dict["Mixed_7c.branch_pool.bn.running_var"],
    )


def test_pth_is_converted_once_then_cached(state_dict, monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv(inc.CACHE_ENV, str(tmp_path / "cache"))
    pth = tmp_path / inc.WEIGHTS_FILE
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in state_dict.items()}, pth)
    _, first = inc.load_inception(pth)
    cached = inc.cache_path(pth)
    assert cached.parent == tmp_path / "cache" / "inception" and cached.is_file()
    monkeypatch.setitem(sys.modules, "torch", None)  # the second load must not need torch
    _, second = inc.load_inception(pth)
    jax.tree_util.tree_map(np.testing.assert_array_equal, first, second)
    np.testing.assert_array_equal(
        second["params"]["Mixed_5b"]["branch5x5_2"]["conv"]["kernel"],
        np.transpose(state_dict["Mixed_5b.branch5x5_2.conv.weight"], (2, 3, 1, 0)),
    )
