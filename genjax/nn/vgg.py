"""VGG-19 as a feature network (the convolutional part, torchvision's layout), Flax linen, NHWC.

The network is torchvision's ``vgg19().features``: 16 convolutions 3x3 (padding 1, with
bias) each followed by a ReLU, in five blocks of 2, 2, 4, 4 and 4 convolutions, each block
closed by a 2x2/2 max pool (odd sizes are floored, as ``nn.MaxPool2d(2, 2)``). The layers are
named as in the style-transfer literature: ``conv{b}_{i}`` / ``relu{b}_{i}`` for block ``b``
(1..5) and convolution ``i``, and ``pool{b}``; :data:`LAYERS` lists them in order with the index
of torchvision's ``features`` Sequential they are (``conv1_1`` is ``features.0``,
``relu4_2`` is ``features.22``, ``pool5`` is ``features.36``). :class:`VGG19Features` returns
the requested layers and computes nothing past the deepest one.

Input: RGB images in ``[0, 1]``, NHWC. ``input_norm`` says which weights the network carries:

* ``"torchvision"`` (default): ``vgg19-dcbe5bb1.pth``; the input is normalised with the
  ImageNet mean ``(0.485, 0.456, 0.406)`` and std ``(0.229, 0.224, 0.225)``;
* ``"caffe"``: the original Caffe VGG-19 converted to the torchvision layout (e.g.
  ``vgg19-d01eb7cb.pth``): the input becomes BGR in ``[0, 255]`` less the Caffe mean
  ``(103.939, 116.779, 123.68)`` (B, G, R), no std.

Weights cannot be downloaded here: a torchvision state dict is given by path or by
``$GENJAX_VGG_WEIGHTS`` (``genjax style --vgg-weights``); a missing file raises
:class:`VGGWeightsError` saying where to get it. :func:`convert_state_dict` keeps the
``features.*`` tensors (the ``classifier.*`` ones of the full file are not needed) with conv
kernels OIHW -> HWIO, and the result is cached as an ``.npz`` in ``$GENJAX_CACHE_DIR/vgg``
(default ``~/.cache/genjax/vgg``), keyed by the file's name, size and modification time, so
later loads need neither torch nor the conversion. Reading the ``.pth`` needs torch (``pip
install torch==2.13.0``, or ``genjax[bench]``); an ``.npz`` of the converted tree (e.g. that
cache file) can be given instead. :func:`random_variables` gives He-initialised weights whose
features mean nothing; they exist for tests and timing without the real file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.traverse_util import flatten_dict, unflatten_dict
from jax import lax

from genjax.core.files import write_atomic
from genjax.core.weights import cache_file, checked_variables, read_torch_state_dict

Array = jax.Array
Variables = dict[str, Any]

WEIGHTS_ENV = "GENJAX_VGG_WEIGHTS"
CACHE_ENV = "GENJAX_CACHE_DIR"
WEIGHTS_FILE = "vgg19-dcbe5bb1.pth"
WEIGHTS_URL = "https://download.pytorch.org/models/" + WEIGHTS_FILE
CAFFE_WEIGHTS_FILE = "vgg19-d01eb7cb.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
INPUT_NORMS = ("torchvision", "caffe")
# Bump when the layout of the converted tree changes, to invalidate old caches.
_CACHE_FORMAT = 1

# channels of each block's convolutions
BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512),
          (512, 512, 512, 512))


def _layers() -> tuple[tuple[str, int], ...]:
    """``(name, index in torchvision's features)`` of every layer, in order."""
    out, index = [], 0
    for b, block in enumerate(BLOCKS, start=1):
        for i in range(1, len(block) + 1):
            out += [(f"conv{b}_{i}", index), (f"relu{b}_{i}", index + 1)]
            index += 2
        out.append((f"pool{b}", index))
        index += 1
    return tuple(out)


LAYERS: tuple[tuple[str, int], ...] = _layers()
LAYER_NAMES: tuple[str, ...] = tuple(name for name, _ in LAYERS)
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))
_INDEX = dict(LAYERS)


class VGGWeightsError(ValueError):
    """The VGG-19 weights are missing, unreadable or of the wrong shape."""


def _missing_weights_message(detail: str) -> str:
    return (
        f"{detail}. Style transfer needs torchvision's VGG-19 weights {WEIGHTS_FILE} (~548 MB; "
        f"or the Caffe-normalised {CAFFE_WEIGHTS_FILE} with --vgg-input caffe), which genjax "
        f"cannot download. Get it from {WEIGHTS_URL} on a machine with internet access, copy "
        f"it here and pass its path with --vgg-weights /path/to/{WEIGHTS_FILE} or the "
        f"environment variable {WEIGHTS_ENV} (a converted .npz of the same weights works too; "
        "--vgg-weights random runs with random weights, whose features are meaningless)"
    )


def check_layers(layers: Sequence[str]) -> tuple[str, ...]:
    """The layer names, checked.

    Raises:
      ValueError: an unknown name (the message lists the known ones).
    """
    unknown = [name for name in layers if name not in _INDEX]
    if unknown or not layers:
        raise ValueError(
            f"unknown VGG-19 layer(s) {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(LAYER_NAMES)}")
    return tuple(layers)


def min_input_size(layers: Sequence[str]) -> int:
    """The smallest image side for which every layer in ``layers`` has at least 1x1 pixels."""
    deepest = max(_INDEX[name] for name in check_layers(layers))
    pools = sum(1 for name, index in LAYERS if name.startswith("pool") and index <= deepest)
    return 2**pools


def normalize(images: Array, input_norm: str = "torchvision") -> Array:
    """Maps RGB images in ``[0, 1]`` to the input the weights were trained on.

    Args:
      images: (B, H, W, 3) floats in ``[0, 1]``.
      input_norm: ``"torchvision"`` (ImageNet mean/std) or ``"caffe"`` (BGR, 0..255, mean).

    Returns:
      (B, H, W, 3) float32.
    """
    x = jnp.asarray(images, jnp.float32)
    if input_norm == "torchvision":
        return (x - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)
    if input_norm == "caffe":
        return x[..., ::-1] * 255.0 - jnp.asarray(CAFFE_MEAN_BGR)
    raise ValueError(f"input_norm must be one of {', '.join(INPUT_NORMS)}, got {input_norm!r}")


class VGG19Features(nn.Module):
    """torchvision's VGG-19 ``features`` on NHWC images in ``[0, 1]``; returns chosen layers.

    Attributes:
      layers: names from :data:`LAYER_NAMES` to return (e.g. ``("relu1_1", "conv4_2")``).
      input_norm: ``"torchvision"`` or ``"caffe"`` (see :func:`normalize`).
      pooling: ``"max"`` (torchvision's) or ``"avg"`` (Gatys et al.'s suggestion for
        synthesis); the weights are the same.
      precision: conv precision (HIGHEST: no reduced-precision passes on GPU/TPU).
    """

    layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    input_norm: str = "torchvision"
    pooling: str = "max"
    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, images: Array) -> dict[str, Array]:
        """Runs the network up to the deepest requested layer.

        Args:
          images: (B, H, W, 3) RGB in ``[0, 1]``; H, W at least :func:`min_input_size`.

        Returns:
          name -> (B, h, w, C) activations of every requested layer.
        """
        wanted = set(check_layers(self.layers))
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"VGG-19 takes NHWC RGB images, got shape {images.shape}")
        if self.pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {self.pooling!r}")
        x = normalize(images, self.input_norm)
        out: dict[str, Array] = {}
        for b, block in enumerate(BLOCKS, start=1):
            for i, channels in enumerate(block, start=1):
                x = nn.Conv(channels, (3, 3), padding=((1, 1), (1, 1)),
                            precision=self.precision, name=f"conv{b}_{i}")(x)
                if f"conv{b}_{i}" in wanted:
                    out[f"conv{b}_{i}"] = x
                x = nn.relu(x)
                if f"relu{b}_{i}" in wanted:
                    out[f"relu{b}_{i}"] = x
                if len(out) == len(wanted):
                    return out
            pool = nn.max_pool if self.pooling == "max" else nn.avg_pool
            x = pool(x, (2, 2), (2, 2), padding="VALID")
            if f"pool{b}" in wanted:
                out[f"pool{b}"] = x
            if len(out) == len(wanted):
                return out
        return out


# --------------------------------------------------------------------------- weights


def variable_shapes() -> dict[tuple[str, ...], tuple[int, ...]]:
    """Flat ``('params', 'conv{b}_{i}', 'kernel'|'bias') -> shape`` of all 16 convolutions."""
    shapes, cin = {}, 3
    for b, block in enumerate(BLOCKS, start=1):
        for i, cout in enumerate(block, start=1):
            shapes[("params", f"conv{b}_{i}", "kernel")] = (3, 3, cin, cout)
            shapes[("params", f"conv{b}_{i}", "bias")] = (cout,)
            cin = cout
    return shapes


def torch_key(conv: str, leaf: str) -> str:
    """The torchvision state-dict key of a conv's ``kernel`` or ``bias``
    (``conv1_1``, ``kernel`` -> ``features.0.weight``)."""
    return f"features.{_INDEX[conv]}.{'weight' if leaf == 'kernel' else 'bias'}"


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, np.float32)


def convert_state_dict(state_dict: Mapping[str, Any]) -> Variables:
    """Converts torchvision's VGG-19 state dict to Flax variables of :class:`VGG19Features`.

    ``features.N.weight`` (O, I, 3, 3) -> ``conv{b}_{i}/kernel`` (3, 3, I, O),
    ``features.N.bias`` -> ``conv{b}_{i}/bias``; the ``classifier.*`` tensors are ignored.

    Args:
      state_dict: name -> tensor (torch tensors or anything ``np.asarray`` accepts).

    Returns:
      ``{'params': ...}`` of float32 NumPy arrays.

    Raises:
      VGGWeightsError: a feature tensor missing, unexpected or of the wrong shape (e.g.
        VGG-16's or VGG-19-BN's state dict).
    """
    given = {k: v for k, v in state_dict.items() if not k.startswith("classifier.")}
    flat, problems = {}, []
    for path, shape in variable_shapes().items():
        name = torch_key(path[1], path[2])
        if name not in given:
            problems.append(f"missing {name}")
            continue
        value = _to_numpy(given.pop(name))
        if value.ndim == 4:
            value = value.transpose(2, 3, 1, 0)
        if value.shape != shape:
            problems.append(f"{name}: converted shape {value.shape}, expected {shape}")
            continue
        flat[path] = np.ascontiguousarray(value)
    problems += [f"unexpected {k}" for k in sorted(given)]
    if problems:
        shown = "; ".join(problems[:6]) + ("; ..." if len(problems) > 6 else "")
        raise VGGWeightsError(
            f"the state dict is not torchvision's VGG-19 ({len(problems)} problems: {shown}); "
            f"use {WEIGHTS_FILE} from {WEIGHTS_URL} (not VGG-16 or the batch-norm vgg19_bn)")
    return unflatten_dict(flat)


def random_variables(seed: int = 0) -> Variables:
    """He-normal kernels and zero biases: features of no meaning, for tests and timing.

    Args:
      seed: NumPy seed.

    Returns:
      ``{'params': ...}`` of float32 NumPy arrays, shaped as the real weights.
    """
    rng = np.random.default_rng(seed)
    flat = {}
    for path, shape in variable_shapes().items():
        if path[-1] == "kernel":
            fan_in = shape[0] * shape[1] * shape[2]
            flat[path] = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
        else:
            flat[path] = np.zeros(shape, np.float32)
    return unflatten_dict(flat)


def save_variables(variables: Variables, path: str | os.PathLike) -> Path:
    """Writes converted variables as an uncompressed ``.npz`` (atomically; parents made)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"/".join(k): np.asarray(v) for k, v in flatten_dict(variables).items()}
    arrays["__format__"] = np.asarray(_CACHE_FORMAT)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_atomic(path, buffer.getvalue())


def load_variables(path: str | os.PathLike) -> Variables:
    """Reads a ``.npz`` written by :func:`save_variables` and checks every shape.

    Raises:
      VGGWeightsError: the file is unreadable, lacks a variable or has a wrong shape.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__format__"}
    except (OSError, ValueError) as err:
        raise VGGWeightsError(f"could not read {path} as an .npz ({err}); pass the original "
                              f"{WEIGHTS_FILE} instead") from err
    flat, problems = checked_variables(arrays, variable_shapes())
    if problems:
        raise VGGWeightsError(
            f"{path} is not a converted VGG-19 .npz ({len(problems)} problems, e.g. "
            f"{problems[0]}); pass the original {WEIGHTS_FILE} instead")
    return unflatten_dict(flat)


def cache_dir() -> Path:
    """The cache folder: ``$GENJAX_CACHE_DIR/vgg``, else ``~/.cache/genjax/vgg``."""
    root = os.environ.get(CACHE_ENV) or os.path.join(Path.home(), ".cache", "genjax")
    return Path(root) / "vgg"


def cache_path(weights: str | os.PathLike) -> Path:
    """The cache file of a ``.pth``: ``cache_dir() / '<stem>-<size>-<mtime_ns>-v<format>.npz'``."""
    return cache_file(weights, cache_dir(), _CACHE_FORMAT)


def _read_torch_state_dict(path: Path) -> Mapping[str, Any]:
    return read_torch_state_dict(path, VGGWeightsError, cache_dir(),
                                 f"{WEIGHTS_FILE} from {WEIGHTS_URL}")


def resolve_weights_path(path: str | os.PathLike | None = None) -> Path:
    """The weights file to use: ``path``, else ``$GENJAX_VGG_WEIGHTS``.

    Raises:
      VGGWeightsError: none given, or the file does not exist.
    """
    given = path if path not in (None, "") else os.environ.get(WEIGHTS_ENV) or None
    if given is None:
        raise VGGWeightsError(_missing_weights_message("no VGG-19 weights given"))
    p = Path(given).expanduser()
    if not p.is_file():
        raise VGGWeightsError(_missing_weights_message(f"VGG-19 weights {p} not found"))
    return p


def load_vgg19(path: str | os.PathLike | None = None) -> Variables:
    """The variables of :class:`VGG19Features`, converting (and caching) a ``.pth`` once.

    Args:
      path: ``vgg19-dcbe5bb1.pth`` (or the Caffe variant), a converted ``.npz``, or
        ``"random"`` for :func:`random_variables` (meaningless features); default
        ``$GENJAX_VGG_WEIGHTS``.

    Returns:
      ``{'params': ...}`` of float32 NumPy arrays.

    Raises:
      VGGWeightsError: missing file, torch needed but absent, or wrong contents.
    """
    if str(path) == "random" or (path in (None, "") and os.environ.get(WEIGHTS_ENV) == "random"):
        return random_variables()
    weights = resolve_weights_path(path)
    if weights.suffix == ".npz":
        return load_variables(weights)
    cached = cache_path(weights)
    if cached.is_file():
        try:
            return load_variables(cached)
        except VGGWeightsError:
            pass  # a stale or damaged cache: convert again and overwrite it
    variables = convert_state_dict(_read_torch_state_dict(weights))
    try:
        save_variables(variables, cached)
    except OSError:
        pass  # an unwritable cache only costs the conversion next time
    return variables
