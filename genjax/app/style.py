"""``genjax style``: neural style transfer (Gatys et al. 2016) with VGG-19 features.

One image is optimised so that its VGG-19 features match those of a content image at the
content layers (default ``conv4_2``) and its Gram matrices match those of a style image at
the style layers (default ``relu1_1 .. relu5_1``), with a squared total-variation penalty:

    loss = content_weight * content + style_weight * style + tv_weight * tv

(the terms of :mod:`genjax.losses.perceptual`; Gram matrices normalised by ``C H W``). The
image lives in ``[0, 1]`` RGB. Adam (default) clips it to ``[0, 1]`` after every step;
``optax.lbfgs`` (with its zoom line search) optimises it unconstrained and the result is
clipped when written. The steps run in one compiled ``lax.fori_loop`` per chunk of
``log_every`` steps (one compilation for the whole run), each chunk reporting the loss terms.

Images: a ``.png`` / ``.jpg`` path, or a scikit-image demo picture by name
(:data:`genjax.data.pictures.DEMO_PICTURES`: ``astronaut``, ``chelsea``, ``coffee``, ``rocket``
and the grayscale textures ``brick``, ``grass``, ``gravel``, repeated to RGB; ``pip install
genjax-models[style]``).
The content image is resized so that its longer side is ``size``; the style image is scaled
to cover the same height and width and centre-cropped (its aspect ratio kept).

Weights: see :mod:`genjax.nn.vgg` (``--vgg-weights`` / ``$GENJAX_VGG_WEIGHTS``). The weights
``"random"`` give He-initialised VGG-19 weights: the whole loop runs, but the features mean
nothing, so the picture is not a style transfer; it is there for tests and timing.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from genjax.core.files import write_atomic
from genjax.data.pictures import DEMO_PICTURES, fit, read_picture, resize_longer_side

OPTIMIZERS = ("adam", "lbfgs")
INITS = ("content", "noise")


class StyleInputError(ValueError):
    """A style-transfer input that cannot be used; the message says the fix."""


class StyleDivergedError(RuntimeError):
    """The loss became NaN or infinite during the optimisation."""


@dataclasses.dataclass(frozen=True)
class StyleSettings:
    """What ``genjax style`` optimises and how.

    Attributes:
      steps: optimiser steps.
      size: the content image's longer side after resizing, in pixels.
      optimizer: ``"adam"`` or ``"lbfgs"``.
      lr: Adam's learning rate (on pixels in ``[0, 1]``); L-BFGS uses its line search.
      content_weight, style_weight, tv_weight: the loss weights.
      content_layers, style_layers: VGG-19 layer names (:data:`genjax.nn.vgg.LAYER_NAMES`).
      init: ``"content"`` (start from the content image) or ``"noise"`` (uniform [0, 1]).
      seed: seed of the noise initialisation.
      log_every: steps per compiled chunk (one progress line each).
      vgg_input: the weights' input normalisation, ``"torchvision"`` or ``"caffe"``.
      pooling: ``"max"`` (torchvision's) or ``"avg"``.
    """

    steps: int = 300
    size: int = 256
    optimizer: str = "adam"
    lr: float = 0.02
    content_weight: float = 1.0
    style_weight: float = 1e6
    tv_weight: float = 10.0
    content_layers: tuple[str, ...] = ("conv4_2",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    init: str = "content"
    seed: int = 0
    log_every: int = 50
    vgg_input: str = "torchvision"
    pooling: str = "max"

    def check(self) -> StyleSettings:
        """The settings, checked (one :class:`StyleInputError` naming the bad value)."""
        from genjax.nn import vgg

        if self.steps < 1:
            raise StyleInputError(f"--steps must be >= 1, got {self.steps}")
        if self.log_every < 1:
            raise StyleInputError(f"--log-every must be >= 1, got {self.log_every}")
        if self.optimizer not in OPTIMIZERS:
            raise StyleInputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got "
                                  f"{self.optimizer!r}")
        if self.init not in INITS:
            raise StyleInputError(f"--init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.vgg_input not in vgg.INPUT_NORMS:
            raise StyleInputError(f"--vgg-input must be one of {', '.join(vgg.INPUT_NORMS)}, "
                                  f"got {self.vgg_input!r}")
        if self.pooling not in ("max", "avg"):
            raise StyleInputError(f"--pooling must be max or avg, got {self.pooling!r}")
        for name in ("lr", "content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0 or (name == "lr" and value == 0):
                flag = "--" + name.replace("_", "-")
                raise StyleInputError(f"{flag} must be a finite number "
                                      f"{'> 0' if name == 'lr' else '>= 0'}, got {value}")
        try:
            layers = vgg.check_layers(self.content_layers + self.style_layers)
        except ValueError as err:
            raise StyleInputError(str(err)) from err
        smallest = vgg.min_input_size(layers)
        if self.size < smallest:
            raise StyleInputError(
                f"--size {self.size} is too small: the VGG-19 layers used (deepest "
                f"{max(layers, key=vgg.LAYER_NAMES.index)}) need images of at least "
                f"{smallest} pixels per side; use --size {smallest} or more")
        return self


# --------------------------------------------------------------------------- images


def encode_png(image01: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) float image in ``[0, 1]`` (clipped, rounded to 8 bits)."""
    from PIL import Image

    pixels = np.round(np.clip(np.asarray(image01, np.float64), 0.0, 1.0) * 255.0)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- optimisation


def make_loss_fn(settings: StyleSettings) -> Callable:
    """``loss(x, variables, targets) -> (total, terms)`` for one (1, H, W, 3) image ``x``.

    ``targets`` holds ``content`` (layer -> features of the content image) and ``grams``
    (layer -> Gram matrices of the style image); :func:`style_targets` computes them.
    """
    import jax.numpy as jnp

    from genjax.losses.perceptual import content_loss, style_loss, total_variation

    net = _network(settings)

    def loss(x, variables, targets):
        features = net.apply(variables, x)
        content = sum((content_loss(features[name], target)
                       for name, target in targets["content"].items()), jnp.zeros(()))
        style = style_loss(features, targets["grams"])
        tv = total_variation(x)
        total = (settings.content_weight * content + settings.style_weight * style
                 + settings.tv_weight * tv)
        return total, {"loss": total, "content": content, "style": style, "tv": tv}

    return loss


def _network(settings: StyleSettings):
    from genjax.nn.vgg import VGG19Features

    layers = tuple(dict.fromkeys(settings.content_layers + settings.style_layers))
    return VGG19Features(layers=layers, input_norm=settings.vgg_input, pooling=settings.pooling)


def style_targets(settings: StyleSettings, variables, content01, style01) -> dict:
    """The content features and style Gram matrices to match (computed once)."""
    import jax

    from genjax.losses.perceptual import gram_matrix

    net = _network(settings)

    @jax.jit
    def targets(variables, content, style):
        fc, fs = net.apply(variables, content), net.apply(variables, style)
        return {"content": {n: fc[n] for n in settings.content_layers},
                "grams": {n: gram_matrix(fs[n]) for n in settings.style_layers}}

    return targets(variables, content01, style01)


def make_optimizer(settings: StyleSettings):
    """``(optax transformation, step(x, opt_state, variables, targets) -> (x, opt_state))``."""
    import jax
    import jax.numpy as jnp
    import optax

    loss = make_loss_fn(settings)
    if settings.optimizer == "adam":
        opt = optax.adam(settings.lr)

        def step(x, opt_state, variables, targets):
            grads = jax.grad(lambda y: loss(y, variables, targets)[0])(x)
            updates, opt_state = opt.update(grads, opt_state, x)
            return jnp.clip(optax.apply_updates(x, updates), 0.0, 1.0), opt_state

        return opt, step
    opt = optax.lbfgs()

    def lbfgs_step(x, opt_state, variables, targets):
        value_fn = lambda y: loss(y, variables, targets)[0]  # noqa: E731
        value, grads = optax.value_and_grad_from_state(value_fn)(x, state=opt_state)
        updates, opt_state = opt.update(grads, opt_state, x, value=value, grad=grads,
                                        value_fn=value_fn)
        return optax.apply_updates(x, updates), opt_state

    return opt, lbfgs_step


def _chunk_fn(settings: StyleSettings):
    """``run(x, opt_state, variables, targets, n) -> (x, opt_state, terms)``: ``n`` steps in
    one ``lax.fori_loop`` (``n`` is traced, so every chunk length shares one compilation),
    then the loss terms of the resulting image."""
    import jax

    _, step = make_optimizer(settings)
    loss = make_loss_fn(settings)

    def run(x, opt_state, variables, targets, n):
        def body(_, carry):
            return step(*carry, variables, targets)

        x, opt_state = jax.lax.fori_loop(0, n, body, (x, opt_state))
        return x, opt_state, loss(x, variables, targets)[1]

    return jax.jit(run)  # no donation: L-BFGS's state holds the image's own buffer


def stylize(settings: StyleSettings, variables, content01: np.ndarray, style01: np.ndarray,
            report: Callable[[str], None] | None = None) -> tuple[np.ndarray, dict]:
    """Optimises an image; returns it ((H, W, 3) float in [0, 1]) and what happened.

    Args:
      settings: checked :class:`StyleSettings`.
      variables: VGG-19 variables (:func:`genjax.nn.vgg.load_vgg19`).
      content01: (H, W, 3) content image in ``[0, 1]``.
      style01: (H', W', 3) style image in ``[0, 1]``.
      report: called with one progress line per chunk.

    Returns:
      ``(image, info)``; ``info`` has ``history`` (``step`` and the loss terms at step 0 and
      after every chunk), ``compile_s`` and ``seconds_per_step`` (wall time of the steps
      after compilation).
    """
    import jax
    import jax.numpy as jnp

    content = jnp.asarray(content01, jnp.float32)[None]
    style = jnp.asarray(style01, jnp.float32)[None]
    variables = jax.device_put(variables)
    targets = style_targets(settings, variables, content, style)
    if settings.init == "content":
        x = content
    else:
        x = jax.random.uniform(jax.random.PRNGKey(settings.seed), content.shape, jnp.float32)
    opt, _ = make_optimizer(settings)
    opt_state = opt.init(x)
    started = time.perf_counter()
    run = _chunk_fn(settings).lower(x, opt_state, variables, targets, jnp.int32(1)).compile()
    compile_s = time.perf_counter() - started
    history = [{"step": 0, **_floats(run(x, opt_state, variables, targets, jnp.int32(0))[2])}]
    done, step_time = 0, 0.0
    while done < settings.steps:
        n = min(settings.log_every, settings.steps - done)
        started = time.perf_counter()
        x, opt_state, terms = run(x, opt_state, variables, targets, jnp.int32(n))
        terms = _floats(terms)  # waits for the chunk
        step_time += time.perf_counter() - started
        done += n
        history.append({"step": done, **terms})
        if report is not None:
            report(f"step {done}/{settings.steps}: loss {terms['loss']:.4g} (content "
                   f"{terms['content']:.4g}, style {terms['style']:.4g}, tv {terms['tv']:.4g}); "
                   f"{step_time / done:.3f} s/step")
        if not math.isfinite(terms["loss"]):
            raise StyleDivergedError(
                f"the loss became {terms['loss']} at step {done}; lower --lr or the weights")
    image = np.clip(np.asarray(x[0], np.float64), 0.0, 1.0)
    return image, {"history": history, "compile_s": compile_s,
                   "seconds_per_step": step_time / settings.steps}


def _floats(terms) -> dict[str, float]:
    return {k: float(v) for k, v in terms.items()}


def style_transfer(content: str, style: str, out: str | Path, settings: StyleSettings,
                   vgg_weights: str | None = None,
                   report: Callable[[str], None] | None = None) -> dict:
    """``genjax style``: reads the images, optimises, writes ``out`` (a PNG, atomically).

    Args:
      content, style: image paths or demo names (:func:`genjax.data.pictures.read_picture`).
      out: the ``.png`` file to write (missing folders are made).
      settings: the optimisation (checked here).
      vgg_weights: a ``.pth`` / ``.npz`` path, ``"random"``, or None for
        ``$GENJAX_VGG_WEIGHTS``.
      report: called with progress lines.

    Returns:
      A JSON-able summary: ``out``, ``size`` (H, W), ``steps``, first and last ``loss``,
      ``history``, ``compile_s``, ``seconds_per_step``, ``random_weights``.

    Raises:
      StyleInputError: bad settings, sizes or ``out``.
      genjax.data.pictures.PictureError: a missing or unreadable image.
      genjax.nn.vgg.VGGWeightsError: missing or wrong weights.
    """
    from genjax.nn.vgg import WEIGHTS_ENV, load_vgg19

    settings = settings.check()
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise StyleInputError(f"--out {out} must be a .png file")
    if out.is_dir():
        raise StyleInputError(f"--out {out} is a folder; name the .png file to write")
    content_img = resize_longer_side(read_picture(content), settings.size)
    h, w = content_img.shape[:2]
    smallest = min_side(settings)
    if min(h, w) < smallest:
        raise StyleInputError(
            f"the content image is {h}x{w} pixels at --size {settings.size}; the VGG-19 "
            f"layers used need at least {smallest} pixels per side: use a larger --size "
            f"(its aspect ratio is {max(h, w) / min(h, w):.2f})")
    style_img = fit(read_picture(style), h, w)
    variables = load_vgg19(vgg_weights)
    image, info = stylize(settings, variables, content_img / 255.0, style_img / 255.0, report)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, encode_png(image))
    return {"out": str(out), "size": [h, w], "steps": settings.steps,
            "optimizer": settings.optimizer, "loss_first": info["history"][0]["loss"],
            "loss_last": info["history"][-1]["loss"], "history": info["history"],
            "compile_s": round(info["compile_s"], 3),
            "seconds_per_step": round(info["seconds_per_step"], 5),
            "random_weights": str(vgg_weights or os.environ.get(WEIGHTS_ENV, "")) == "random"}


def min_side(settings: StyleSettings) -> int:
    """The smallest image side the settings' layers take."""
    from genjax.nn.vgg import min_input_size

    return min_input_size(settings.content_layers + settings.style_layers)


__all__ = ["DEMO_PICTURES", "StyleDivergedError", "StyleInputError", "StyleSettings",
           "make_loss_fn", "style_targets", "style_transfer", "stylize"]
