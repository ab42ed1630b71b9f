"""`genjax style`: the whole command on random VGG-19 weights (features that mean nothing: the
loop, the losses and the file are tested, not the look), the L-BFGS path, and bad input."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from PIL import Image

from genjax.app import style as S
from genjax.cli import main
from genjax.data.pictures import read_picture
from genjax.nn.vgg import WEIGHTS_ENV, random_variables

SHALLOW = dict(content_layers=("relu2_2",), style_layers=("relu1_1", "relu2_1"))


def _png(path, h, w, seed):
    rng = np.random.default_rng(seed)
    # smooth blobs plus noise: a picture with structure at several scales
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + c) * np.cos(4 * yy - c) for c in range(3)], -1)
    img = np.clip(127 + 90 * base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def test_command_runs_the_whole_loop_and_writes_the_png(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    content = _png(tmp_path / "content.png", 48, 40, 0)
    style = _png(tmp_path / "style.jpg", 30, 50, 1)
    out = tmp_path / "new" / "out.png"
    code = main(["style", "--content", str(content), "--style", str(style), "--out", str(out),
                 "--steps", "8", "--size", "38", "--log-every", "4", "--lr", "0.05",
                 "--vgg-weights", "random", "--content-layers", "relu2_2",
                 "--style-layers", "relu1_1,relu2_1"])  # shallow: quicker to compile
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["random_weights"] is True and summary["steps"] == 8
    assert summary["size"] == [38, 32]  # longer side 48 -> 38, aspect kept
    assert summary["loss_last"] < summary["loss_first"]
    assert captured.err.count("genjax: step ") == 2  # one line per chunk of 4 steps
    with Image.open(out) as img:
        assert img.size == (32, 38) and img.mode == "RGB"
    assert [p.name for p in out.parent.iterdir()] == ["out.png"]  # no temporary left


def test_lbfgs_lowers_each_term_from_noise():
    """(Adam's path is the command test's.) One conv layer: what is tested is the optimiser."""
    rng = np.random.default_rng(2)
    content, style = rng.uniform(0, 1, (2, 16, 16, 3))
    settings = S.StyleSettings(steps=12, size=16, optimizer="lbfgs", log_every=6,
                               init="noise", content_layers=("relu1_1",),
                               style_layers=("relu1_1",)).check()
    image, info = S.stylize(settings, random_variables(0), content, style)
    first, last = info["history"][0], info["history"][-1]
    assert [h["step"] for h in info["history"]] == [0, 6, 12]
    assert last["loss"] < 0.8 * first["loss"], (first, last)
    assert last["style"] < first["style"] and last["content"] < first["content"]
    assert image.shape == (16, 16, 3) and 0 <= image.min() and image.max() <= 1
    # the reported total is the weighted sum of the reported terms
    s = settings
    np.testing.assert_allclose(last["loss"], s.content_weight * last["content"]
                               + s.style_weight * last["style"] + s.tv_weight * last["tv"],
                               rtol=1e-5)


def test_style_targets_are_the_style_images_gram_matrices():
    rng = np.random.default_rng(3)
    content, style = rng.uniform(0, 1, (2, 1, 16, 16, 3)).astype(np.float32)
    settings = S.StyleSettings(size=16, **SHALLOW).check()
    variables = random_variables(1)
    targets = S.style_targets(settings, variables, content, style)
    loss = jax.jit(S.make_loss_fn(settings))
    _, terms = loss(style, variables, targets)  # the style image matches its own Grams
    assert float(terms["style"]) < 1e-10
    _, terms = loss(content, variables, targets)  # and the content image its own features
    assert float(terms["content"]) == 0.0 and float(terms["style"]) > 0


def test_demo_pictures_ship_with_scikit_image():
    pytest.importorskip("skimage")
    for name in S.DEMO_PICTURES:
        img = read_picture(name)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3, name
        assert min(img.shape[:2]) >= 256, name
    brick = read_picture("brick")
    assert (brick[..., 0] == brick[..., 2]).all()  # a grayscale texture, repeated to RGB


def _error(capsys, argv):
    code = main(["style", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("genjax: error: ")  # one clear line
    return err


def test_bad_input_gets_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    content = str(_png(tmp_path / "c.png", 40, 40, 0))
    out = str(tmp_path / "o.png")
    ok = ["--content", content, "--style", content, "--out", out]
    err = _error(capsys, ["--content", str(tmp_path / "missing.png"), *ok[2:]])
    assert "missing.png not found" in err
    assert "neither an image file nor a demo picture" in _error(
        capsys, ["--content", "astronot", *ok[2:]])
    err = _error(capsys, [*ok, "--size", "8", "--vgg-weights", "random"])
    assert "--size 8 is too small" in err and "at least 16 pixels" in err
    wide = str(_png(tmp_path / "wide.png", 10, 60, 1))
    err = _error(capsys, ["--content", wide, *ok[2:], "--size", "64", "--vgg-weights", "random"])
    assert "11x64" in err and "larger --size" in err
    assert "must be a .png" in _error(capsys, [*ok[:4], "--out", str(tmp_path / "o.jpg")])
    assert "--steps must be >= 1" in _error(capsys, [*ok, "--steps", "0"])
    assert "--lr must be a finite number > 0" in _error(capsys, [*ok, "--lr", "nan"])
    assert "unknown VGG-19 layer(s) conv9_9" in _error(capsys, [*ok, "--content-layers",
                                                                 "conv9_9"])
    err = _error(capsys, ok)  # no --vgg-weights, no $GENJAX_VGG_WEIGHTS
    assert "vgg19-dcbe5bb1.pth" in err and WEIGHTS_ENV in err
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert "not a readable image" in _error(capsys, ["--content", str(broken), *ok[2:]])
    assert not (tmp_path / "o.png").exists()
