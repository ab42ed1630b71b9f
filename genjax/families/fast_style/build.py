"""From a ``fast_style`` config to the FastStyle objective."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam, image_size


def _layers(text: str, key: str) -> tuple[str, ...]:
    from genjax.nn.vgg import check_layers

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    try:
        return check_layers(names)
    except ValueError as err:
        raise ConfigError(f"model.{key}: {err}") from err


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A Johnson transformer network trained with the VGG-19 perceptual loss.

    Raises:
      ConfigError: grayscale data, a size not divisible by 4 or too small for the VGG
        layers, unknown layers, negative weights.
      genjax.nn.vgg.VGGWeightsError / genjax.data.pictures.PictureError: the weights or the
        style picture cannot be read.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    from genjax.data.pictures import read_picture, resize_longer_side
    from genjax.families.fast_style.network import TransformerNet
    from genjax.families.fast_style.objective import FastStyle, Frozen
    from genjax.losses.perceptual import gram_matrix
    from genjax.nn.vgg import INPUT_NORMS, VGG19Features, load_vgg19, min_input_size

    m = config.model
    if spec.shape[-1] != 3:
        raise ConfigError(f"fast_style trains on RGB pictures; {spec.name!r} has "
                          f"{spec.shape[-1]} channel(s): use data.name=style_pictures")
    size = image_size(config, spec)
    content_layers = _layers(m.content_layers, "content_layers")
    style_layers = _layers(m.style_layers, "style_layers")
    smallest = min_input_size(content_layers + style_layers)
    if size % 4 or size < smallest or spec.shape[1] % 4:
        raise ConfigError(f"fast_style needs image sides divisible by 4 and at least {smallest} "
                          f"pixels for its VGG layers; got {spec.shape[:2]} (data.image_size "
                          f"{config.data.image_size})")
    if m.style_size < smallest:
        raise ConfigError(f"model.style_size {m.style_size} is below the {smallest} pixels "
                          "the VGG layers need")
    if m.vgg_input not in INPUT_NORMS:
        raise ConfigError(f"model.vgg_input must be one of {', '.join(INPUT_NORMS)}, got "
                          f"{m.vgg_input!r}")
    for key in ("content_weight", "style_weight", "tv_weight"):
        if not np.isfinite(m[key]) or m[key] < 0:
            raise ConfigError(f"model.{key} must be a finite number >= 0, got {m[key]}")
    if m.features < 1 or m.residual_blocks < 0:
        raise ConfigError("model.features must be >= 1 and model.residual_blocks >= 0")
    vgg = VGG19Features(layers=tuple(dict.fromkeys(content_layers + style_layers)),
                        input_norm=m.vgg_input)
    used = set(_convs_up_to(content_layers + style_layers))
    weights = load_vgg19(m.vgg_weights or None)
    variables = {"params": {k: v for k, v in weights["params"].items() if k in used}}
    style = resize_longer_side(read_picture(m.style_image), m.style_size)
    features = jax.jit(vgg.apply)(variables, jnp.asarray(style[None], jnp.float32) / 255.0)
    grams = {n: np.asarray(gram_matrix(features[n])) for n in style_layers}
    return FastStyle(
        module=TransformerNet(features=m.features, residual_blocks=m.residual_blocks),
        vgg=vgg, frozen=Frozen({"vgg": jax.device_put(variables), "grams": grams}),
        optimizer=adam(config.optim), content_layers=content_layers,
        style_layers=style_layers, content_weight=float(m.content_weight),
        style_weight=float(m.style_weight), tv_weight=float(m.tv_weight),
        data_key=context.modality.batch_key)


def _convs_up_to(layers) -> tuple[str, ...]:
    """The convolutions the deepest of ``layers`` needs (their weights are all it loads)."""
    from genjax.nn.vgg import CONV_NAMES, LAYER_NAMES

    deepest = max(LAYER_NAMES.index(n) for n in layers)
    return tuple(c for c in CONV_NAMES if LAYER_NAMES.index(c) <= deepest)
