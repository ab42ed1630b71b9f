"""Datasets prepared in TFDS format, read with random access (``tfds.data_source``).

This module is the base of ``genjax.data``: it holds the shared types
(``DatasetError``, ``DatasetSpec``), the data directory convention, and the
reading of any prepared TFDS dataset (``mnist``, ``cifar10``, ``celeb_a``...).

genjax never downloads: TFDS's own builders retry unreachable hosts for
minutes when offline, so a dataset that is not prepared in the data directory
fails at once with a ``DatasetError`` that says how to prepare it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import json
import os
import pathlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

DATA_DIR_ENV = "GENJAX_DATA_DIR"

# Formats `tfds.data_source` can read with random access.
_RANDOM_ACCESS_FORMATS = ("array_record", "parquet")


class DatasetError(ValueError):
    """A dataset cannot be used as asked; the message names the problem and the fix."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a training or evaluation program needs to know about a dataset.

    Attributes:
      name: the dataset name as given to ``load_source``.
      modality: the name of the data's modality (``genjax.modalities``): ``"image"``
        (records carry ``"image"`` uint8 HWC), ``"points"`` (``"point"`` float32 vectors),
        ``"text"`` (``"text"`` strings, as TFDS's lm1b and tiny_shakespeare) or ``"audio"``
        (``"audio"`` int16 mono clips at 16 kHz, ``genjax.data.speech``).
      shape: per-example shape of the main field as stored, e.g. ``(28, 28, 1)``.
      num_classes: number of label classes, or None when the dataset has no
        class label (the 2D mixtures: see ``genjax.data.toy2d.mixture``).
      splits: split name -> number of examples.
    """

    name: str
    modality: str
    shape: tuple[int, ...]
    num_classes: int | None
    splits: dict[str, int]


def default_data_dir() -> pathlib.Path:
    """Where datasets live when no data_dir is given.

    Returns:
      ``$GENJAX_DATA_DIR`` if set (and not empty), else ``~/.cache/genjax/datasets``.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return pathlib.Path(env).expanduser()
    return pathlib.Path.home() / ".cache" / "genjax" / "datasets"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> pathlib.Path:
    """The data directory to use.

    Args:
      data_dir: an explicit directory, or None for ``default_data_dir()``.

    Returns:
      The directory as an absolute-or-user-expanded path.
    """
    if data_dir is None:
        return default_data_dir()
    return pathlib.Path(data_dir).expanduser()


#: The batch field genjax models -> the name of its modality (``genjax.modalities``).
MODALITY_OF_FIELD = {"image": "image", "point": "points", "text": "text",
                     "audio": "audio"}

#: genjax's audio: mono int16 clips at this rate...
AUDIO_SAMPLE_RATE = 16_000
#: ... of this many samples (1 s): a TFDS audio dataset of variable-length clips (TFDS's
#: ``speech_commands``) is read with every clip centred in it (:func:`centre_clip`).
AUDIO_CLIP_SAMPLES = 16_000


def centre_clip(x: np.ndarray, length: int) -> np.ndarray:
    """Clips ``(..., T)`` as ``(..., length)``: a longer one keeps its middle ``length``
    samples, a shorter one is centred in zeros (silence); the dtype is kept."""
    x = np.asarray(x)
    t = x.shape[-1]
    if t > length:
        start = (t - length) // 2
        return x[..., start:start + length]
    before = (length - t) // 2
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(before, length - t - before)])


def _audio_feature(name: str, features: Any, key: str) -> tuple[int, ...]:
    """The stored shape genjax reads of an audio field: ``(T,)``, or ``(AUDIO_CLIP_SAMPLES,)``
    for variable-length clips.

    Raises:
      DatasetError: a sample rate other than ``AUDIO_SAMPLE_RATE``, or not mono.
    """
    feature = features[key]
    rate = getattr(feature, "sample_rate", None)
    if rate is not None and rate != AUDIO_SAMPLE_RATE:
        raise DatasetError(f"dataset {name!r} holds audio at {rate} Hz; genjax's audio models "
                           f"and metrics run at {AUDIO_SAMPLE_RATE} Hz: prepare a resampled "
                           "copy of it (e.g. scipy.signal.resample_poly) as a TFDS dataset")
    shape = tuple(feature.shape)
    if len(shape) != 1:
        raise DatasetError(f"dataset {name!r} holds audio of shape {shape}; genjax models "
                           f"mono clips (T,) at {AUDIO_SAMPLE_RATE} Hz")
    return (AUDIO_CLIP_SAMPLES,) if shape[0] is None else shape


def main_field(features: Any) -> tuple[str, str]:
    """Finds the field genjax models: an image, or a 2D point.

    Args:
      features: a ``tfds.features.FeaturesDict``.

    Returns:
      ``(batch_key, stored_key)``: ``("image", "image")``, ``("point", "point")``, or
      ``("image", key)`` for a dataset whose only image feature has another name; the
      modality is ``MODALITY_OF_FIELD[batch_key]``.

    Raises:
      DatasetError: if no such field exists.
    """
    keys = list(features.keys())
    for field in MODALITY_OF_FIELD:
        if field in keys:
            return field, field
    images = [k for k in keys if isinstance(features[k], tfds.features.Image)]
    if len(images) == 1:
        return "image", images[0]
    raise DatasetError(
        f"genjax reads an 'image', 'point', 'text' or 'audio' field, but this dataset has "
        f"fields {keys}."
    )


def spec_from_info(name: str, info: Any) -> DatasetSpec:
    """Builds a ``DatasetSpec`` from a prepared dataset's ``tfds.core.DatasetInfo``.

    Args:
      name: the dataset name to record.
      info: the ``DatasetInfo`` of a prepared builder.

    Returns:
      The spec; ``num_classes`` comes from a ``ClassLabel`` feature named
      ``"label"`` (None without one).
    """
    field, key = main_field(info.features)
    label = info.features["label"] if "label" in info.features.keys() else None
    num_classes = label.num_classes if isinstance(label, tfds.features.ClassLabel) else None
    shape = (_audio_feature(name, info.features, key) if field == "audio"
             else tuple(info.features[key].shape))
    return DatasetSpec(
        name=name,
        modality=MODALITY_OF_FIELD[field],
        shape=shape,
        num_classes=num_classes,
        splits={split: info.splits[split].num_examples for split in info.splits},
    )


class FieldView:
    """A random-access source that keeps and renames some fields of another one.

    Args:
      source: anything with ``__len__`` and ``__getitem__`` returning dicts.
      fields: output name -> name in ``source``'s records.
      fit: output name -> a function applied to that field of every record (e.g. a
        variable-length clip centred in 1 s).
    """

    def __init__(self, source: Any, fields: dict[str, str],
                 fit: dict[str, Callable[[Any], Any]] | None = None):
        self._source = source
        self._fields = dict(fields)
        self._fit = dict(fit or {})

    def __len__(self) -> int:
        return len(self._source)

    def _select(self, record: dict[str, Any]) -> dict[str, Any]:
        out = {name: record[key] for name, key in self._fields.items()}
        for name, fn in self._fit.items():
            out[name] = fn(out[name])
        return out

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._select(self._source[index])

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        getitems = getattr(self._source, "__getitems__", None)
        records = getitems(indices) if getitems else [self._source[i] for i in indices]
        return [self._select(r) for r in records]

    def __repr__(self) -> str:
        return f"FieldView({self._source!r}, fields={self._fields})"


def genjax_fields(features: Any) -> dict[str, str]:
    """The fields genjax keeps from a dataset, as output name -> stored name.

    Args:
      features: a ``tfds.features.FeaturesDict``.

    Returns:
      The main field under ``"image"`` / ``"point"``, plus ``"label"`` if present.
    """
    field, key = main_field(features)
    fields = {field: key}
    if "label" in features.keys():
        fields["label"] = "label"
    return fields


def _close_matches(name: str, candidates: Sequence[str]) -> str:
    matches = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


def _embedded_hint(alternatives: Sequence[str]) -> str:
    if not alternatives:
        return ""
    return f" Datasets genjax builds offline, with no download: {', '.join(alternatives)}."


def unknown_dataset_error(
    name: str, data_dir: pathlib.Path, alternatives: Sequence[str] = ()
) -> DatasetError:
    """The error for a name that is neither embedded, a TFDS builder, nor prepared.

    Args:
      name: the requested name.
      data_dir: the directory that was searched.
      alternatives: the embedded dataset names, listed and used for suggestions.

    Returns:
      A ``DatasetError`` (to raise).
    """
    known = list(dict.fromkeys([*alternatives, *tfds.list_builders(with_community_datasets=False)]))
    return DatasetError(
        f"Unknown dataset {name!r}: it is not a genjax embedded dataset, not a TFDS "
        f"dataset, and nothing of that name is prepared in {data_dir}."
        f"{_close_matches(name.split('/')[0].split(':')[0], known)}"
        f"{_embedded_hint(alternatives)}"
    )


def not_prepared_error(
    name: str, data_dir: pathlib.Path, alternatives: Sequence[str] = ()
) -> DatasetError:
    """The error for a TFDS dataset that is not prepared in ``data_dir``.

    Args:
      name: the requested name.
      data_dir: the directory that was searched.
      alternatives: the embedded dataset names, listed as offline options.

    Returns:
      A ``DatasetError`` (to raise).
    """
    return DatasetError(
        f"Dataset {name!r} is not prepared in {data_dir}, and genjax cannot download it "
        f"offline (genjax never downloads datasets). To prepare it, on a machine with "
        f"internet run:  tfds build {name} --data_dir {data_dir} "
        f"--file_format=array_record  then copy that directory here if needed and pass "
        f"--config.data.data_dir={data_dir} (or set ${DATA_DIR_ENV})."
        f"{_embedded_hint(alternatives)}"
    )


# TFDS imports the module of each feature class a dataset's features.json names; only its
# own feature connectors may be named (a data_dir is data, never code).
SAFE_FEATURE_MODULE = "tensorflow_datasets."


def check_metadata_is_data(name: str, data_dir: str | os.PathLike[str] | None = None) -> None:
    """Refuses a prepared dataset whose ``features.json`` names a feature class outside
    ``tensorflow_datasets`` (opening it would import that module: code from a data folder).

    Args:
      name: the dataset name (``"mnist"``, ``"mnist:3.0.1"``, ``"celeb_a/config"``).
      data_dir: where prepared datasets live (None: ``default_data_dir()``).

    Raises:
      DatasetError: naming the file and the class, before anything is imported.
    """
    base = name.split(":")[0].split("/")[0]
    folder = resolve_data_dir(data_dir) / base
    if not base or not folder.is_dir():
        return
    for path in sorted(folder.rglob("features.json")):
        try:
            metadata = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise DatasetError(f"Dataset {name!r}: cannot read {path} ({e}); prepare the "
                               "dataset again") from None
        for class_name in _class_names(metadata):
            if not (isinstance(class_name, str) and class_name.startswith(SAFE_FEATURE_MODULE)):
                raise DatasetError(
                    f"Dataset {name!r}: {path} names the feature class {class_name!r}, "
                    "outside tensorflow_datasets; genjax does not import code named by a data "
                    "folder. Prepare the dataset again with `tfds build` or check "
                    "--config.data.data_dir")


def _class_names(metadata: Any) -> Iterator[Any]:
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if key in ("pythonClassName", "python_class_name"):
                yield value
            else:
                yield from _class_names(value)
    elif isinstance(metadata, list):
        for value in metadata:
            yield from _class_names(value)


def prepared_builder(
    name: str, data_dir: str | os.PathLike[str] | None = None, alternatives: Sequence[str] = ()
) -> Any:
    """The TFDS builder of a dataset already prepared for random access.

    Never downloads or builds anything.

    Args:
      name: a TFDS name, optionally with config and version (``"mnist:3.0.1"``).
      data_dir: where prepared datasets live (None: ``default_data_dir()``).
      alternatives: embedded dataset names, mentioned in error messages.

    Returns:
      A ``tfds.core.DatasetBuilder`` whose data is prepared in array_record or
      parquet format.

    Raises:
      DatasetError: unknown name, not prepared, or prepared in a format that
        has no random access (tfrecord).
    """
    data_dir = resolve_data_dir(data_dir)
    check_metadata_is_data(name, data_dir)
    banner = io.StringIO()  # TFDS prints a TensorFlow banner before a missing-TF error
    try:
        with contextlib.redirect_stdout(banner):
            builder = tfds.builder(name, data_dir=os.fspath(data_dir))
            prepared = builder.is_prepared()
            file_format = builder.info.file_format
    except tfds.core.registered.DatasetNotFoundError:
        raise unknown_dataset_error(name, data_dir, alternatives) from None
    except (ValueError, AssertionError) as e:  # bad config or version of a known builder
        reason = str(e).strip().splitlines()[0]
        raise DatasetError(f"Cannot use dataset {name!r}: {reason}") from None
    except ModuleNotFoundError as e:
        if "tensorflow" not in str(e):
            sys.stdout.write(banner.getvalue())
            raise
        raise DatasetError(
            f"Dataset {name!r} has features that TFDS reads only with TensorFlow (such as "
            "tfds.features.Audio, as in speech_commands and nsynth); install it (pip install "
            "tensorflow-cpu) or prepare the data with tfds.features.Tensor fields (int16 "
            "clips at 16 kHz for audio)") from None
    sys.stdout.write(banner.getvalue())
    if not prepared:
        raise not_prepared_error(name, data_dir, alternatives)
    file_format = getattr(file_format, "value", file_format)
    if file_format not in _RANDOM_ACCESS_FORMATS:
        raise DatasetError(
            f"Dataset {name!r} is prepared in {builder.data_dir} as {file_format}, which has "
            f"no random access; genjax needs array_record. Rebuild it: tfds build {name} "
            f"--data_dir {data_dir} --file_format=array_record (after deleting "
            f"{builder.data_dir})."
        )
    return builder


def check_split(name: str, split: str, splits: Sequence[str]) -> None:
    """Raises a ``DatasetError`` if ``split`` names no split of the dataset.

    Args:
      name: the dataset name (for the message).
      split: a split name, optionally with a TFDS slice (``"train[:10%]"``).
      splits: the dataset's split names.
    """
    if split.split("[")[0] not in splits:
        raise DatasetError(
            f"Dataset {name!r} has no split {split!r}; its splits are {sorted(splits)}."
        )


def open_builder_source(
    name: str, builder: Any, split: str, data_dir: str | os.PathLike[str] | None = None
) -> Any:
    """Opens a random-access source on one split of a prepared builder.

    Args:
      name: the dataset name, as given by the user.
      builder: its prepared builder (see ``prepared_builder``).
      split: the split, optionally sliced (``"train[:1000]"``).
      data_dir: the data directory the builder was found in (None:
        ``default_data_dir()``). Not ``builder.data_dir_root``: for builders
        restored from files that is the version directory.

    Returns:
      The ``tfds.data_source`` object, or a ``FieldView`` of it keeping only
      the main field (renamed to ``"image"`` / ``"point"``) and ``"label"``.
    """
    check_split(name, split, list(builder.info.splits))
    source = tfds.data_source(
        name, split=split, data_dir=os.fspath(resolve_data_dir(data_dir)), download=False
    )
    features = builder.info.features
    fields = genjax_fields(features)
    fit = {}
    if "audio" in fields and tuple(features[fields["audio"]].shape) == (None,):
        _audio_feature(name, features, fields["audio"])
        fit["audio"] = lambda clip: centre_clip(clip, AUDIO_CLIP_SAMPLES)
    if not fit and list(fields.items()) == [(k, k) for k in features.keys()]:
        return source
    return FieldView(source, fields, fit)


def load_tfds_source(
    name: str,
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    alternatives: Sequence[str] = (),
) -> Any:
    """Random-access source over a prepared TFDS dataset (no download).

    Args:
      name: a TFDS dataset name (``"mnist"``, ``"cifar10"``, ``"celeb_a"``...).
      split: split name, optionally sliced.
      data_dir: where it was prepared (None: ``default_data_dir()``).
      alternatives: embedded dataset names, mentioned in error messages.

    Returns:
      An object with ``__len__``, ``__getitem__`` and ``__getitems__``, whose
      records hold ``"image"`` (uint8 HWC) and, if the dataset has one, ``"label"``.

    Raises:
      DatasetError: see ``prepared_builder`` and ``check_split``.
    """
    builder = prepared_builder(name, data_dir, alternatives)
    return open_builder_source(name, builder, split, data_dir)


def tfds_dataset_spec(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    alternatives: Sequence[str] = (),
) -> DatasetSpec:
    """The ``DatasetSpec`` of a prepared TFDS dataset.

    Args:
      name: a TFDS dataset name.
      data_dir: where it was prepared (None: ``default_data_dir()``).
      alternatives: embedded dataset names, mentioned in error messages.

    Returns:
      The spec read from the prepared dataset's metadata.
    """
    return spec_from_info(name, prepared_builder(name, data_dir, alternatives).info)
