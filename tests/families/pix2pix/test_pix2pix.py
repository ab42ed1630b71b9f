"""pix2pix: the networks against a float64 PyTorch forward, one training step against a
direct (vjp-free) reference of the paper's updates, L1/PSNR against float64 NumPy, the
source | output | target grid, and build errors that name the fix."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from PIL import Image

from genjax.app.experiment import build_objective
from genjax.config import ConfigError
from genjax.core.objective import Capabilities
from genjax.data import dataset_spec
from genjax.families.pix2pix.config import pix2pix_config
from genjax.families.pix2pix.networks import PatchDiscriminator, UNetGenerator
from genjax.families.pix2pix.objective import Pix2Pix
from genjax.modalities.image import save_reconstructions

G = UNetGenerator(features=(4, 8, 8), channels=1, dropout=0.5, dropout_blocks=1)
D = PatchDiscriminator(features=(4, 8))


def _batch(n=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return {"image": rng.uniform(-1, 1, (n, size, size, 1)).astype(np.float32),
            "source": rng.uniform(-1, 1, (n, size, size, 1)).astype(np.float32)}


def _objective(**kw):
    return Pix2Pix(generator=G, discriminator=D, g_optimizer=optax.adam(1e-3, b1=0.5),
                   d_optimizer=optax.adam(2e-3, b1=0.5), **kw)


# -- the networks against PyTorch --------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def _t(x):
    torch = _torch()
    return torch.tensor(np.asarray(x, np.float64))


def _conv(torch, h, p, stride):
    w = _t(p["kernel"]).permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    return torch.nn.functional.conv2d(h, w, _t(p["bias"]) if "bias" in p else None,
                                      stride=stride, padding=1)


def _up(torch, h, p):
    w = _t(np.asarray(p["kernel"])[::-1, ::-1].copy()).permute(2, 3, 0, 1)  # (in, out, kh, kw)
    return torch.nn.functional.conv_transpose2d(h, w, _t(p["bias"]) if "bias" in p else None,
                                                stride=2, padding=1)


def _inorm(torch, h, p):
    return torch.nn.functional.group_norm(h, h.shape[1], _t(p["scale"]), _t(p["bias"]),
                                          eps=1e-5)


def torch_unet(params, source):
    """The pix2pix U-Net of ``G`` in float64 PyTorch (NCHW), eval mode."""
    torch = _torch()
    lrelu = lambda h: torch.nn.functional.leaky_relu(h, 0.2)
    h, skips = _t(source).permute(0, 3, 1, 2), []
    h = lrelu(_conv(torch, h, params["Conv_0"], 2))
    skips.append(h)
    h = lrelu(_inorm(torch, _conv(torch, h, params["Conv_1"], 2), params["GroupNorm_0"]))
    skips.append(h)
    h = lrelu(_conv(torch, h, params["Conv_2"], 2))  # innermost: no norm
    h = torch.relu(_inorm(torch, _up(torch, h, params["ConvTranspose_0"]), params["GroupNorm_1"]))
    h = torch.cat([h, skips[1]], 1)
    h = torch.relu(_inorm(torch, _up(torch, h, params["ConvTranspose_1"]), params["GroupNorm_2"]))
    h = torch.cat([h, skips[0]], 1)
    return torch.tanh(_up(torch, h, params["ConvTranspose_2"])).permute(0, 2, 3, 1).numpy()


def torch_patchgan(params, source, image):
    torch = _torch()
    lrelu = lambda h: torch.nn.functional.leaky_relu(h, 0.2)
    h = torch.cat([_t(source), _t(image)], -1).permute(0, 3, 1, 2)
    h = lrelu(_conv(torch, h, params["Conv_0"], 2))
    h = lrelu(_inorm(torch, _conv(torch, h, params["Conv_1"], 1), params["GroupNorm_0"]))
    return _conv(torch, h, params["Conv_2"], 1)[:, 0].numpy()


def _noisy(params, key):
    """Parameters with random norm scales/offsets and biases (not their zero/one inits)."""
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree_util.tree_unflatten(
        tree, [x + 0.3 * jax.random.normal(k, x.shape) for x, k in zip(leaves, keys, strict=True)])


def test_unet_generator_matches_pytorch():
    b = _batch()
    init = jax.jit(functools.partial(G.init, train=False))  # one compile, not op by op
    params = _noisy(init(jax.random.PRNGKey(0), b["source"])["params"], jax.random.PRNGKey(1))
    out = jax.jit(functools.partial(G.apply, train=False))({"params": params}, b["source"])
    assert out.shape == (4, 16, 16, 1)
    np.testing.assert_allclose(out, torch_unet(params, b["source"]), atol=2e-5)


def test_patchgan_matches_pytorch_with_16_pixel_patches():
    b = _batch()
    params = _noisy(jax.jit(D.init)(jax.random.PRNGKey(2), b["source"], b["image"])["params"],
                    jax.random.PRNGKey(3))
    logits = jax.jit(D.apply)({"params": params}, b["source"], b["image"])
    assert logits.shape == (4, 6, 6)  # 16 -> 8 (s2) -> 7 -> 6 (k4 s1 p1)
    np.testing.assert_allclose(logits, torch_patchgan(params, b["source"], b["image"]),
                               atol=2e-5)
    # logit (0, 0) sees input pixels [0, 16) only (receptive field 16, offset -3 - 1 ...)
    grad = jax.jit(jax.grad(lambda s: D.apply({"params": params}, s, b["image"])[0, 0, 0]))(
        jnp.asarray(b["source"]))
    rows = np.nonzero(np.abs(np.asarray(grad[0, :, :, 0])).sum(axis=1))[0]
    assert rows.max() < 16 and (np.abs(np.asarray(grad[1:])) == 0).all()


# -- one step against the paper's updates ------------------------------------------------------


def _softplus(x):
    return jnp.logaddexp(x, 0.0)


def test_train_step_is_d_then_g_against_the_updated_d():
    objective = _objective(l1_weight=100.0)
    batch = _batch()
    state = jax.jit(objective.init)(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(7)
    new, metrics = jax.jit(objective.train_step)(state, batch, key)

    gp, dp = state.params["generator"], state.params["discriminator"]
    src, img = jnp.asarray(batch["source"]), jnp.asarray(batch["image"])
    translate = lambda p: G.apply({"params": p}, src, train=True, rngs={"dropout": key})
    fake = jax.jit(translate)(gp)

    def d_ref(p):
        real = D.apply({"params": p}, src, img)
        fk = D.apply({"params": p}, src, fake)
        return 0.5 * (jnp.mean(_softplus(-real)) + jnp.mean(_softplus(fk)))

    d_grads = jax.jit(jax.grad(d_ref))(dp)
    tx_d = optax.adam(2e-3, b1=0.5)
    upd, _ = tx_d.update(d_grads, tx_d.init(dp), dp)
    dp1 = optax.apply_updates(dp, upd)

    def g_ref(p):
        x = translate(p)
        return (jnp.mean(_softplus(-D.apply({"params": dp1}, src, x)))
                + 100.0 * jnp.mean(jnp.abs(x - img)))

    g_grads = jax.jit(jax.grad(g_ref))(gp)
    tx_g = optax.adam(1e-3, b1=0.5)
    upd, _ = tx_g.update(g_grads, tx_g.init(gp), gp)
    gp1 = optax.apply_updates(gp, upd)

    for got, want in ((new.params["discriminator"], dp1), (new.params["generator"], gp1)):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["d_loss"], jax.jit(d_ref)(dp), rtol=1e-5)
    np.testing.assert_allclose(metrics["g_loss"], jax.jit(g_ref)(gp), rtol=1e-5)
    np.testing.assert_allclose(metrics["g_l1"], np.abs(np.asarray(fake) - batch["image"]).mean(),
                               rtol=1e-5)


def test_translation_is_deterministic_and_metrics_match_float64_numpy():
    objective = _objective()
    batch = _batch(n=6, seed=3)
    state = jax.jit(objective.init)(jax.random.PRNGKey(0), batch)
    translate = jax.jit(objective.reconstruct)
    a = translate(state, batch, jax.random.PRNGKey(1))
    np.testing.assert_array_equal(a, translate(state, batch, jax.random.PRNGKey(2)))
    m = jax.jit(objective.test_metrics)(state, batch, jax.random.PRNGKey(0))
    out = (np.asarray(a, np.float64) + 1) / 2
    tgt = (batch["image"].astype(np.float64) + 1) / 2
    src = (batch["source"].astype(np.float64) + 1) / 2
    mse = ((out - tgt) ** 2).reshape(6, -1).mean(1)
    np.testing.assert_allclose(m["psnr"], np.mean(10 * np.log10(1 / mse)), rtol=1e-5)
    np.testing.assert_allclose(m["l1"], np.abs(out - tgt).mean(), rtol=1e-5)
    mse_src = ((src - tgt) ** 2).reshape(6, -1).mean(1)
    np.testing.assert_allclose(m["psnr_identity"], np.mean(10 * np.log10(1 / mse_src)),
                               rtol=1e-5)


def test_unpaired_batches_and_bad_losses_are_refused():
    with pytest.raises(ValueError, match="data.pairing=edges or inpaint"):
        _objective().init(jax.random.PRNGKey(0), {"image": _batch()["image"]})
    with pytest.raises(ValueError, match="unknown loss 'ls'"):
        _objective(loss="ls")
    with pytest.raises(ValueError, match="reconstruct_from needs reconstruct"):
        Capabilities(reconstruct_from="source")
    assert Pix2Pix.capabilities.translates and not Pix2Pix.capabilities.sample


def test_build_names_the_fix():
    spec = dataset_spec("mnist_subset")
    config = pix2pix_config()
    config.data.pairing = ""
    with pytest.raises(ConfigError, match="set --config.data.pairing to one of edges, inpaint"):
        build_objective(config, spec)
    config = pix2pix_config()
    config.data.image_size = 28  # 4 halvings need a multiple of 16
    with pytest.raises(ConfigError, match="multiple of 16"):
        build_objective(config, spec)
    config = pix2pix_config()
    config.data.pairing = "blur"
    with pytest.raises(ConfigError, match="one of edges, inpaint"):
        build_objective(config, spec)


def test_translation_grid_rows_are_source_output_target(tmp_path):
    rng = np.random.default_rng(0)
    src, out, tgt = (rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32) for _ in range(3))
    path = save_reconstructions(tgt, out, tmp_path / "g.png", sources=src)
    grid = np.asarray(Image.open(path))[::2, ::2]  # undo the 2x upscale
    to8 = lambda x: np.clip(np.rint((x + 1) * 127.5), 0, 255).astype(np.uint8)[..., 0]
    for row, expected in enumerate((src, out, tgt)):
        y = 2 + row * 10
        np.testing.assert_array_equal(grid[y:y + 8, 2:10], to8(expected[0]))
