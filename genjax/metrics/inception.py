"""InceptionV3 as the FID feature network (pytorch-fid's "FID Inception"), in Flax linen, NHWC.

The architecture is the TensorFlow graph ``inception-2015-12-05`` that the original FID
code (TTUR) uses, as pytorch-fid rebuilds it: torchvision's ``Inception3`` with its
``Mixed_5b..5d`` / ``Mixed_6b..6e`` / ``Mixed_7b`` / ``Mixed_7c`` blocks replaced by
``FIDInceptionA`` / ``FIDInceptionC`` / ``FIDInceptionE_1`` / ``FIDInceptionE_2``:

* the pooling branch of A, C and E_1 is a 3x3/1 average pool with padding 1 that does
  *not* count the padded zeros (TensorFlow's ``SAME`` average pool,
  ``count_include_pad=False``); E_2 (``Mixed_7c``) uses a 3x3/1 *max* pool there;
* every convolution is conv (no bias) -> BatchNorm (eps 1e-3, inference statistics) -> ReLU;
* the head is a global average pool (the 2048-d "pool3" features FID uses) and a
  2048 -> 1008 fully connected layer (``fc``: the 1008 logits of the 2015 graph; the
  Inception Score uses their softmax). No auxiliary classifier.

Input convention (pytorch-fid's ``InceptionV3(resize_input=True, normalize_input=True)``):
our images are NHWC floats in [-1, 1]; :func:`preprocess` maps them to [0, 1], repeats a
single (grayscale) channel to 3, resizes to 299x299 bilinearly with half-pixel centres and
*no* antialiasing (``jax.image.resize(..., 'bilinear', antialias=False)``, the same as
``torch.nn.functional.interpolate(mode='bilinear', align_corners=False)`` both up and
down; ``antialias=True``, jax's default, would differ from pytorch-fid when shrinking),
then scales to [-1, 1] with ``2 x - 1`` as pytorch-fid's ``normalize_input`` does.
The net effect is an affine map and a resize, so values outside [-1, 1] pass through
unclipped unless ``quantize=True``, which rounds to the 256 levels of an 8-bit image first
(what pytorch-fid sees when it reads PNG files). FID is sensitive to such details: the
resize filter (bilinear here, PIL bicubic in clean-fid, TF's own resize in the original
code) and 8-bit quantisation each shift FID by about 1-2 points, so compare numbers
only between runs that follow the same convention. This module follows pytorch-fid's.

Weights: the standard file ``pt_inception-2015-12-05-6726825d.pth`` (a PyTorch state
dict), given as a path or by ``$GENJAX_INCEPTION_WEIGHTS`` (config key
``eval.inception_weights``). It cannot be downloaded here; a missing file raises
:class:`InceptionWeightsError` saying where to get it. :func:`convert_state_dict` turns
the state dict into Flax variables once: conv kernels OIHW -> HWIO, ``fc.weight``
transposed, BatchNorm kept as inference-mode BatchNorm (``params`` scale/bias and
``batch_stats`` mean/var, not folded into the convolutions, so each tensor maps 1:1 to
a key of the file). The converted tree is cached as an ``.npz`` in
``$GENJAX_CACHE_DIR/inception`` (default ``~/.cache/genjax/inception``), keyed by the
file's name, size and modification time, so later loads need neither torch nor the
conversion. Reading the ``.pth`` needs torch (``pip install torch==2.13.0``); an ``.npz``
of the converted tree (e.g. that cache file) can be given instead.

Convolutions and the fc layer run at ``Precision.HIGHEST`` so that accelerators do not
drop to TF32/bf16 passes; on CPU it changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.traverse_util import flatten_dict, unflatten_dict
from jax import lax

from genjax.core.weights import cache_file, checked_variables, read_torch_state_dict

Array = jax.Array
Variables = dict[str, Any]

WEIGHTS_ENV = "GENJAX_INCEPTION_WEIGHTS"
CACHE_ENV = "GENJAX_CACHE_DIR"
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE
)
CONFIG_KEY = "eval.inception_weights"
INPUT_SIZE = 299
POOL_DIM = 2048
NUM_LOGITS = 1008
# Bump when the layout of the converted tree changes, to invalidate old caches.
_CACHE_FORMAT = 1


class InceptionWeightsError(ValueError):
    """The Inception weights are missing, unreadable or of the wrong shape."""


def _missing_weights_message(detail: str) -> str:
    return (
        f"{detail}. FID/KID/IS with InceptionV3 need the pytorch-fid weights file "
        f"{WEIGHTS_FILE} (~96 MB), which genjax cannot download. Get it from "
        f"{WEIGHTS_URL} on a machine with internet access, copy it here, and pass its path: "
        f"--inception-weights /path/to/{WEIGHTS_FILE} (genjax fid), "
        f"--config.{CONFIG_KEY}=/path/to/{WEIGHTS_FILE} (genjax eval), or the environment "
        f"variable {WEIGHTS_ENV} (either command; a converted .npz of the same weights works "
        "too)."
    )


# --------------------------------------------------------------------------- architecture


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm(eps=1e-3, running statistics) -> ReLU.

    Attributes:
      features: output channels.
      kernel_size: (kh, kw).
      strides: (sh, sw).
      padding: symmetric (ph, pw) zero padding, as PyTorch's ``padding``.
      precision: matmul/conv precision.
    """

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = nn.Conv(
            self.features,
            self.kernel_size,
            strides=self.strides,
            padding=tuple((p, p) for p in self.padding),
            use_bias=False,
            precision=self.precision,
            name="conv",
        )(x)
        x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
        return nn.relu(x)


def _avg_pool_same(x: Array) -> Array:
    """3x3/1 average pool, padding 1, padded zeros not counted (TF 'SAME')."""
    return nn.avg_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def _max_pool(x: Array, strides: int, pad: int) -> Array:
    return nn.max_pool(x, (3, 3), (strides, strides), padding=((pad, pad), (pad, pad)))


class FIDInceptionA(nn.Module):
    """Mixed_5b/5c/5d: 1x1, 5x5, double 3x3 and (count_include_pad=False) avg-pool branches.

    Attributes:
      pool_features: output channels of the pooling branch.
      precision: conv precision.
    """

    pool_features: int
    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = partial(BasicConv2d, precision=self.precision)
        b1 = conv(64, (1, 1), name="branch1x1")(x)
        b5 = conv(48, (1, 1), name="branch5x5_1")(x)
        b5 = conv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
        b3 = conv(64, (1, 1), name="branch3x3dbl_1")(x)
        b3 = conv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
        b3 = conv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
        bp = conv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
    """Mixed_6a (grid reduction 35 -> 17): strided 3x3, strided double 3x3, max pool.

    Attributes:
      precision: conv precision.
    """

    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = partial(BasicConv2d, precision=self.precision)
        b3 = conv(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
        bd = conv(64, (1, 1), name="branch3x3dbl_1")(x)
        bd = conv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = conv(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, _max_pool(x, 2, 0)], axis=-1)


class FIDInceptionC(nn.Module):
    """Mixed_6b..6e: factorised 7x7 branches and a (count_include_pad=False) avg-pool branch.

    Attributes:
      channels_7x7: width of the 7x7 branches.
      precision: conv precision.
    """

    channels_7x7: int
    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = partial(BasicConv2d, precision=self.precision)
        c7 = self.channels_7x7
        b1 = conv(192, (1, 1), name="branch1x1")(x)
        b7 = conv(c7, (1, 1), name="branch7x7_1")(x)
        b7 = conv(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
        b7 = conv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
        bd = conv(c7, (1, 1), name="branch7x7dbl_1")(x)
        bd = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
        bd = conv(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
        bd = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
        bd = conv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
        bp = conv(192, (1, 1), name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
    """Mixed_7a (grid reduction 17 -> 8): strided 3x3, strided 7x7-then-3x3, max pool.

    Attributes:
      precision: conv precision.
    """

    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = partial(BasicConv2d, precision=self.precision)
        b3 = conv(192, (1, 1), name="branch3x3_1")(x)
        b3 = conv(320, (3, 3), strides=(2, 2), name="branch3x3_2")(b3)
        b7 = conv(192, (1, 1), name="branch7x7x3_1")(x)
        b7 = conv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
        b7 = conv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
        b7 = conv(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, _max_pool(x, 2, 0)], axis=-1)


class FIDInceptionE(nn.Module):
    """Mixed_7b (E_1: avg pool, count_include_pad=False) and Mixed_7c (E_2: max pool).

    Attributes:
      max_pool: True for FIDInceptionE_2 (the 2015 graph's max pool in Mixed_7c).
      precision: conv precision.
    """

    max_pool: bool = False
    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> Array:
        conv = partial(BasicConv2d, precision=self.precision)
        b1 = conv(320, (1, 1), name="branch1x1")(x)
        b3 = conv(384, (1, 1), name="branch3x3_1")(x)
        b3 = jnp.concatenate(
            [
                conv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                conv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3),
            ],
            axis=-1,
        )
        bd = conv(448, (1, 1), name="branch3x3dbl_1")(x)
        bd = conv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate(
            [
                conv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                conv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd),
            ],
            axis=-1,
        )
        pooled = _max_pool(x, 1, 1) if self.max_pool else _avg_pool_same(x)
        bp = conv(192, (1, 1), name="branch_pool")(pooled)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class InceptionV3FID(nn.Module):
    """pytorch-fid's FID InceptionV3 (TF 2015-12-05 graph) on preprocessed NHWC input.

    Submodule names are those of the PyTorch state dict (``Conv2d_1a_3x3``, ``Mixed_5b``,
    ..., ``fc``), so each flax variable maps to one tensor of the weights file.

    Attributes:
      precision: conv/dense precision (HIGHEST: no reduced-precision passes on GPU/TPU).
    """

    precision: lax.Precision = lax.Precision.HIGHEST

    @nn.compact
    def __call__(self, x: Array) -> tuple[Array, Array]:
        """Runs the network.

        Args:
          x: (B, H, W, 3) float, already scaled to [-1, 1] (see :func:`preprocess`); H, W
            are normally 299 (at least 75).

        Returns:
          ``(pool, logits)``: (B, 2048) global-average-pool features and (B, 1008) logits.
        """
        p = self.precision
        conv = partial(BasicConv2d, precision=p)
        x = conv(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)
        x = conv(32, (3, 3), name="Conv2d_2a_3x3")(x)
        x = conv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
        x = _max_pool(x, 2, 0)
        x = conv(80, (1, 1), name="Conv2d_3b_1x1")(x)
        x = conv(192, (3, 3), name="Conv2d_4a_3x3")(x)
        x = _max_pool(x, 2, 0)
        x = FIDInceptionA(32, precision=p, name="Mixed_5b")(x)
        x = FIDInceptionA(64, precision=p, name="Mixed_5c")(x)
        x = FIDInceptionA(64, precision=p, name="Mixed_5d")(x)
        x = InceptionB(precision=p, name="Mixed_6a")(x)
        x = FIDInceptionC(128, precision=p, name="Mixed_6b")(x)
        x = FIDInceptionC(160, precision=p, name="Mixed_6c")(x)
        x = FIDInceptionC(160, precision=p, name="Mixed_6d")(x)
        x = FIDInceptionC(192, precision=p, name="Mixed_6e")(x)
        x = InceptionD(precision=p, name="Mixed_7a")(x)
        x = FIDInceptionE(max_pool=False, precision=p, name="Mixed_7b")(x)
        x = FIDInceptionE(max_pool=True, precision=p, name="Mixed_7c")(x)
        pool = jnp.mean(x, axis=(1, 2))
        logits = nn.Dense(NUM_LOGITS, precision=p, name="fc")(pool)
        return pool, logits


# --------------------------------------------------------------------------- input


def preprocess(images: Array, size: int = INPUT_SIZE, quantize: bool = False) -> Array:
    """Maps our images to the network's input the way pytorch-fid does.

    [-1, 1] -> [0, 1] (optionally rounded to 8-bit levels), grayscale repeated to RGB,
    bilinear resize to ``size`` x ``size`` (half-pixel centres, no antialiasing: torch's
    ``F.interpolate(mode='bilinear', align_corners=False)``), then ``2 x - 1``.

    Args:
      images: (B, H, W, C) float in [-1, 1], C in {1, 3}.
      size: output height and width (299 for FID).
      quantize: round to 256 levels first, as if the images had been saved as 8-bit PNGs.

    Returns:
      (B, size, size, 3) float32 in [-1, 1].
    """
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            f"Inception expects NHWC images with 1 or 3 channels in [-1, 1], got shape "
            f"{images.shape}; add a batch axis / channel axis as needed"
        )
    x = (jnp.asarray(images, jnp.float32) + 1.0) / 2.0
    if quantize:
        x = jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0) / 255.0
    if x.shape[-1] == 1:
        x = jnp.repeat(x, 3, axis=-1)
    x = jax.image.resize(x, (x.shape[0], size, size, 3), "bilinear", antialias=False)
    return 2.0 * x - 1.0


@partial(jax.jit, static_argnames=("quantize",))
def inception_features(
    variables: Variables, images: Array, quantize: bool = False
) -> tuple[Array, Array]:
    """Pool features and logits of images in our convention (jitted).

    The variables are an argument, not a closure constant, so the ~96 MB of weights are
    not baked into the compiled program.

    Args:
      variables: ``{'params': ..., 'batch_stats': ...}`` from :func:`load_inception`.
      images: (B, H, W, C) float in [-1, 1], C in {1, 3}, any H, W (resized to 299).
        XLA needs ~8.3 MB of temporaries per image (0.41 GB at batch 50) besides the
        weights. Each new batch shape compiles once: pad a short last batch.
      quantize: round to 8-bit levels before resizing (see :func:`preprocess`).

    Returns:
      ``(pool, logits)``: (B, 2048) pool3 features and (B, 1008) logits, float32.
    """
    return InceptionV3FID().apply(variables, preprocess(images, quantize=quantize))


def make_feature_fn(
    path: str | os.PathLike | None = None, quantize: bool = False
) -> Callable[[Array], dict[str, Array]]:
    """Loads the weights and returns ``fn(images) -> {'pool': (B, 2048), 'logits': (B, 1008)}``.

    Args:
      path: weights file (``.pth`` or converted ``.npz``); default ``$GENJAX_INCEPTION_WEIGHTS``.
      quantize: round images to 8-bit levels first, as pytorch-fid reading PNG files.

    Returns:
      A function of (B, H, W, C) images in [-1, 1] (C in {1, 3}); call it on batches.
    """
    _, variables = load_inception(path)
    variables = jax.device_put(variables)

    def feature_fn(images: Array) -> dict[str, Array]:
        pool, logits = inception_features(variables, images, quantize=quantize)
        return {"pool": pool, "logits": logits}

    return feature_fn


# --------------------------------------------------------------------------- weights


def _torch_name(path: tuple[str, ...]) -> tuple[str, bool]:
    """Maps a flat flax variable path to (PyTorch state-dict key, transpose needed)."""
    collection, *mods, leaf = path
    prefix = ".".join(mods)
    if leaf == "kernel":  # conv OIHW -> HWIO, fc (out, in) -> (in, out)
        return f"{prefix}.weight", True
    names = {
        ("params", "scale"): "weight",
        ("params", "bias"): "bias",  # BatchNorm's, or fc's
        ("batch_stats", "mean"): "running_mean",
        ("batch_stats", "var"): "running_var",
    }
    return f"{prefix}.{names[(collection, leaf)]}", False


@cache
def _variable_shapes() -> tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]:
    tree = jax.eval_shape(
        InceptionV3FID().init, jax.random.PRNGKey(0), jnp.zeros((1, 75, 75, 3), jnp.float32)
    )
    return tuple((k, tuple(v.shape)) for k, v in flatten_dict(tree).items())


def variable_shapes() -> dict[tuple[str, ...], tuple[int, ...]]:
    """Flat ``(collection, module..., leaf) -> shape`` of the module's variables (traced once)."""
    return dict(_variable_shapes())


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, np.float32)


def convert_state_dict(state_dict: Mapping[str, Any]) -> Variables:
    """Converts a pytorch-fid FID-Inception state dict to Flax variables.

    Conv weights OIHW -> HWIO, ``fc.weight`` (1008, 2048) -> kernel (2048, 1008),
    BatchNorm weight/bias -> ``params`` scale/bias, running mean/var -> ``batch_stats``.
    ``num_batches_tracked`` entries are ignored.

    Args:
      state_dict: name -> tensor (torch tensors or anything ``np.asarray`` accepts).

    Returns:
      ``{'params': ..., 'batch_stats': ...}`` of float32 NumPy arrays.

    Raises:
      InceptionWeightsError: keys missing or unexpected, or a shape that does not match.
    """
    given = {k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
    flat, problems = {}, []
    for path, shape in variable_shapes().items():
        name, transpose = _torch_name(path)
        if name not in given:
            problems.append(f"missing {name}")
            continue
        value = _to_numpy(given.pop(name))
        if transpose:
            value = value.T if value.ndim == 2 else value.transpose(2, 3, 1, 0)
        if value.shape != shape:
            problems.append(f"{name}: converted shape {value.shape}, expected {shape}")
            continue
        flat[path] = np.ascontiguousarray(value)
    problems += [f"unexpected {k}" for k in sorted(given)]
    if problems:
        shown = "; ".join(problems[:8]) + ("; ..." if len(problems) > 8 else "")
        raise InceptionWeightsError(
            f"the state dict is not pytorch-fid's FID Inception ({len(problems)} problems: "
            f"{shown}); use {WEIGHTS_FILE} from {WEIGHTS_URL}, not torchvision's inception_v3"
        )
    return unflatten_dict(flat)


def save_variables(variables: Variables, path: str | os.PathLike) -> Path:
    """Writes converted variables as an uncompressed ``.npz`` (atomically).

    Args:
      variables: the tree from :func:`convert_state_dict`.
      path: destination file (parents are created).

    Returns:
      The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"/".join(k): np.asarray(v) for k, v in flatten_dict(variables).items()}
    arrays["__format__"] = np.asarray(_CACHE_FORMAT)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_variables(path: str | os.PathLike) -> Variables:
    """Reads a ``.npz`` written by :func:`save_variables` and checks every shape.

    Args:
      path: the ``.npz`` file.

    Returns:
      ``{'params': ..., 'batch_stats': ...}`` of float32 NumPy arrays.

    Raises:
      InceptionWeightsError: the file lacks a variable or has a wrong shape.
    """
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "__format__"}
    flat, problems = checked_variables(arrays, variable_shapes())
    if problems:
        raise InceptionWeightsError(
            f"{path} is not a converted FID-Inception .npz ({len(problems)} problems, e.g. "
            f"{problems[0]}); pass the original {WEIGHTS_FILE} instead"
        )
    return unflatten_dict(flat)


def cache_dir() -> Path:
    """The cache folder: ``$GENJAX_CACHE_DIR/inception``, else ``~/.cache/genjax/inception``."""
    root = os.environ.get(CACHE_ENV) or os.path.join(Path.home(), ".cache", "genjax")
    return Path(root) / "inception"


def cache_path(weights: str | os.PathLike) -> Path:
    """The cache file for a ``.pth``: keyed by its name, size and modification time.

    Args:
      weights: the ``.pth`` file (must exist).

    Returns:
      ``cache_dir() / '<stem>-<size>-<mtime_ns>-v<format>.npz'``.
    """
    return cache_file(weights, cache_dir(), _CACHE_FORMAT)


def _read_torch_state_dict(path: Path) -> Mapping[str, Any]:
    return read_torch_state_dict(path, InceptionWeightsError, cache_dir(),
                                 f"{WEIGHTS_FILE} from {WEIGHTS_URL}")


def resolve_weights_path(path: str | os.PathLike | None = None) -> Path:
    """The weights file to use: ``path``, else ``$GENJAX_INCEPTION_WEIGHTS``.

    Args:
      path: a ``.pth`` or ``.npz`` file, or None.

    Returns:
      The existing file's path.

    Raises:
      InceptionWeightsError: none given, or the file does not exist.
    """
    given = path if path not in (None, "") else os.environ.get(WEIGHTS_ENV) or None
    if given is None:
        raise InceptionWeightsError(_missing_weights_message("no Inception weights given"))
    p = Path(given).expanduser()
    if not p.is_file():
        raise InceptionWeightsError(_missing_weights_message(f"Inception weights {p} not found"))
    return p


def load_inception(path: str | os.PathLike | None = None) -> tuple[InceptionV3FID, Variables]:
    """The FID Inception module and its variables, converting (and caching) once.

    Args:
      path: ``pt_inception-2015-12-05-6726825d.pth`` or a converted ``.npz``; default
        ``$GENJAX_INCEPTION_WEIGHTS``.

    Returns:
      ``(module, variables)``; ``module.apply(variables, preprocess(images))`` gives
      ``(pool, logits)``.

    Raises:
      InceptionWeightsError: missing file, torch needed but absent, or wrong contents.
    """
    weights = resolve_weights_path(path)
    if weights.suffix == ".npz":
        return InceptionV3FID(), load_variables(weights)
    cached = cache_path(weights)
    if cached.is_file():
        try:
            return InceptionV3FID(), load_variables(cached)
        except Exception:  # noqa: BLE001
            pass  # a stale or damaged cache: convert again and overwrite it
    variables = convert_state_dict(_read_torch_state_dict(weights))
    try:
        save_variables(variables, cached)
    except OSError:
        pass  # an unwritable cache only costs the conversion next time
    return InceptionV3FID(), variables
