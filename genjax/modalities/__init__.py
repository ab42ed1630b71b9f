"""Data modalities: what a kind of data means to training, sampling and evaluation.

A modality (images, 2D points, text, audio) owns, in one module:

* its batch key (the field a model generates, e.g. ``"image"``), the examples a model takes
  from a split's stored records (the records themselves, or windows of a token stream) and
  the model-input transform;
* how samples are written: the loop's per-step grid, and the file formats ``genjax sample``
  accepts (PNG grid or scatter plot, ``.npz``, ``.txt``, ``.jsonl``, ``.wav``);
* its sample-quality metrics for ``genjax eval`` (names, defaults, and how to compute them).

Each module under ``genjax/modalities/`` declares ``MODALITY``; :func:`modalities` finds them
(and those other distributions advertise under the ``genjax.modalities`` entry-point group).
Nothing outside a modality's module compares modality names. See ``docs/architecture.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from genjax.core.files import written_atomically
from genjax.core.registry import discover
from genjax.data.pipeline import Transform
from genjax.data.tfds import DatasetError, DatasetSpec

#: ``samples(i, n)``: the i-th chunk of ``n`` generated samples, as a host array.
SampleChunks = Callable[[int, int], np.ndarray]


@dataclasses.dataclass(frozen=True)
class EvalContext:
    """What ``genjax eval`` gives a modality to judge samples with.

    Attributes:
      num_samples: how many samples to draw.
      batch_size: samples / feature-network inputs per call.
      seed: the evaluation seed (for subsampling metrics such as KID).
      inception_weights: path of the InceptionV3 FID weights ("" -> none).
      domain_network: loads (training once if needed) the domain feature network of the
        run's dataset; a callable so that only a modality that wants it pays for it.
      train_records: opens the stored train split (a random-access source of records), for
        metrics that compare samples with the training data (text: verbatim copies).
    """

    num_samples: int
    batch_size: int
    seed: int
    inception_weights: str = ""
    domain_network: Callable[[], Any] | None = None
    train_records: Callable[[], Any] | None = None


@dataclasses.dataclass(frozen=True)
class Caveat:
    """A note printed under ``genjax eval``'s table when a metric is known to mislead.

    Attributes:
      applies: ``results -> bool``: whether the note holds for these results.
      text: the note.
    """

    applies: Callable[[Mapping[str, Any]], bool]
    text: str


@dataclasses.dataclass(frozen=True)
class Reading:
    """How to read one number of ``genjax eval``'s results.

    Attributes:
      meaning: what it measures, in one line.
      better: ``"lower"``, ``"higher"``, or a short phrase (e.g. ``"closer to the floor"``);
        "" when neither direction is better.
      floor: where the real-vs-real floor of a number comes from, when the results do not
        hold one (a ``<name>_floor`` entry); "" for none.
      caveats: notes for results where the number misleads.
    """

    meaning: str
    better: str = ""
    floor: str = ""
    caveats: tuple[Caveat, ...] = ()


#: The file name of sample ``i`` in a ``genjax sample --out DIR/`` folder: ``sample_00000.png``.
SAMPLE_STEM = "sample_"


class Modality:
    """The base of every modality; subclasses set the class attributes and methods.

    Attributes:
      name: the modality's name (``DatasetSpec.modality``).
      batch_key: the batch field the models of this modality generate.
      metrics: the sample-quality metrics ``genjax eval`` can compute (``auto``: all).
      domain_classifier: the config (a ``classifier`` family recipe) of the domain network
        ``genjax eval`` trains once on a labelled dataset of this modality and uses as its
        feature network (``genjax.app.domain``); "" for none.
    """

    name: str = ""
    batch_key: str = ""
    metrics: tuple[str, ...] = ()
    domain_classifier: str = ""

    def configure(self, spec: DatasetSpec, *, tokenizer: str = "", vocab_size: int = 0,
                  train_source: Callable[[], Any] | None = None,
                  cache: Path | None = None) -> Modality:
        """This modality set up for one run's data options (``data.tokenizer``,
        ``data.vocab_size``): itself unless the modality tokenizes its data (text).

        Args:
          spec: the dataset.
          tokenizer: ``data.tokenizer`` (``""``: the modality's default).
          vocab_size: ``data.vocab_size`` of a learned tokenizer.
          train_source: the train split's records, read when a tokenizer is learned.
          cache: the folder of learned tokenizers.

        Raises:
          DatasetError: a tokenizer for data that has none, naming the fix.
        """
        del train_source, cache
        if tokenizer not in ("", "bytes") or vocab_size:  # (bytes: the text configs' default)
            raise DatasetError(f"data.tokenizer / data.vocab_size are for text datasets, but "
                               f"dataset {spec.name!r} holds {self.name} data; remove them")
        return self

    def saved_files(self) -> dict[str, str]:
        """``name -> text``: what a run folder (``modality/``) and an export keep of this
        configured modality, so that the run reads and writes its data the same way later
        without re-deriving it (text: a learned tokenizer's ``tokenizer.json``); ``{}`` for
        a modality with nothing learned."""
        return {}

    def restored(self, spec: DatasetSpec, files: Mapping[str, str]) -> Modality:
        """This modality as :meth:`saved_files` saved it (``files``; ``{}``: as it is).

        Raises:
          DatasetError: files this modality does not know (another modality's).
        """
        if files:
            raise DatasetError(f"the saved modality files {sorted(files)} are not {self.name} "
                               f"files (dataset {spec.name!r})")
        return self

    def examples(self, source: Any, spec: DatasetSpec, length: int = 0,
                 train: bool = True) -> Any:
        """The examples models take, from one split's stored records (a random-access source).

        Args:
          source: the split's records (``genjax.data.load_source``).
          spec: the dataset.
          length: ``data.context``, tokens per example of sequence data (0: not set).
          train: the training split (else a held-out one, read once in order).

        Returns:
          A random-access source of examples: ``source`` itself for images and points.
        """
        del spec, length, train
        return source

    def transform(self, spec: DatasetSpec, image_size: int | None = None) -> Transform:
        """Stored records -> model inputs (e.g. uint8 images -> float32 in [-1, 1])."""
        raise NotImplementedError

    def domain_inputs(self, samples: np.ndarray, spec: DatasetSpec,
                      image_size: int | None = None) -> np.ndarray:
        """Samples (or real examples) as inputs of the domain classifier trained on ``spec``
        (with ``data.image_size``): float32, shaped as its training examples.

        Raises:
          ValueError: samples of another shape, naming the one expected.
        """
        del image_size
        samples = np.asarray(samples, np.float32)
        if samples.shape[1:] != tuple(spec.shape):
            raise ValueError(f"the domain classifier of {spec.name!r} takes examples of shape "
                             f"{tuple(spec.shape)}, got {samples.shape[1:]}")
        return samples

    def formats(self) -> Mapping[str, Callable[[np.ndarray, Path], Any]]:
        """``suffix -> write(samples, path)``: the sample files of this modality, the loop's
        own first (e.g. ``.png`` grids, then ``.npz`` arrays)."""
        raise NotImplementedError

    @property
    def sample_formats(self) -> tuple[str, ...]:
        """The file suffixes ``genjax sample --out`` accepts; the first one is what the
        training loop writes every ``train.sample_every`` steps."""
        return tuple(self.formats())

    def save(self, samples: np.ndarray, path: Path) -> Path:
        """Writes ``samples`` to ``path`` in the format of its suffix.

        Raises:
          ValueError: a suffix not in ``sample_formats``.
        """
        path = Path(path)
        self.check_output(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # a temporary file replaced over ``path``: a symlink planted there is not followed
        with written_atomically(path) as tmp:
            self.formats()[path.suffix](np.asarray(samples), tmp)
        return path

    def streamed_formats(self) -> Mapping[str, Callable[[Iterator[np.ndarray], int, Path], Any]]:
        """``suffix -> write(chunks, num, path)``: the formats of ``formats`` that can be
        written chunk by chunk (``genjax sample --num`` of any size in bounded memory; e.g.
        ``.npz``). A picture of all samples (a ``.png`` grid) is not one of them."""
        return {}

    def save_chunks(self, chunks: Iterator[np.ndarray], num: int, path: Path) -> Path:
        """Writes ``num`` samples arriving as ``chunks`` to ``path`` (atomically, like
        :meth:`save`); a streamed format holds one chunk at a time, any other gathers them.

        Raises:
          ValueError: a suffix not in ``sample_formats``, or chunks that do not add up to
            ``num`` rows of one shape.
        """
        path = Path(path)
        self.check_output(path)
        streamed = self.streamed_formats()
        if path.suffix not in streamed:
            return self.save(np.concatenate(list(chunks)), path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_atomically(path) as tmp:
            streamed[path.suffix](chunks, num, tmp)
        return path

    def sample_file(self) -> tuple[str, Callable[[np.ndarray, Path], Any]] | None:
        """``(suffix, write(sample, path))``: the file of ONE sample, for ``genjax sample
        --out DIR/`` (one file per sample); ``None`` where a lone sample has no file of its
        own (points: one point is no picture; write ``.npz``)."""
        return None

    def check_folder_output(self, folder: Path) -> None:
        """Raises ValueError unless ``folder`` can take one file per sample: the modality has
        a one-sample file, and the folder holds none of those files yet (nothing already
        written is overwritten)."""
        one = self.sample_file()
        if one is None:
            raise ValueError(f"{self.name} samples have no one-file-per-sample format; write "
                             f"one file instead: --out NAME{' or NAME'.join(self.sample_formats)}")
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"--out {folder}/ is a file, not a folder")
        held = sorted(folder.glob(f"{SAMPLE_STEM}*{one[0]}")) if folder.is_dir() else []
        if held:
            raise ValueError(f"--out {folder}/ already holds {len(held)} sample files "
                             f"({held[0].name}, ...); choose a new or empty folder (nothing "
                             "was overwritten)")

    def save_folder(self, chunks: Iterator[np.ndarray], num: int, folder: Path) -> list[Path]:
        """Writes ``num`` samples arriving as ``chunks`` into ``folder``, one file each
        (``sample_00000`` + the suffix of :meth:`sample_file`, each written atomically, one
        chunk held at a time).

        Raises:
          ValueError: see :meth:`check_folder_output`; chunks that do not add up to ``num``.
        """
        folder = Path(folder)
        self.check_folder_output(folder)
        suffix, write = self.sample_file()
        folder.mkdir(parents=True, exist_ok=True)
        digits = max(5, len(str(num - 1)))
        written: list[Path] = []
        for chunk in chunks:
            for sample in np.asarray(chunk):
                path = folder / f"{SAMPLE_STEM}{len(written):0{digits}d}{suffix}"
                with written_atomically(path) as tmp:
                    write(sample, tmp)
                written.append(path)
        if len(written) != num:
            raise ValueError(f"expected {num} samples, got {len(written)}")
        return written

    @property
    def loop_formats(self) -> tuple[str, ...]:
        """The formats the training loop writes every ``train.sample_every`` steps (each
        also shown in TensorBoard): the first of ``sample_formats`` unless a modality says
        otherwise (audio: the clips and their spectrogram grid)."""
        return self.sample_formats[:1]

    def write_samples(self, samples: np.ndarray, stem: Path) -> tuple[Path, ...]:
        """The training loop's sample files: ``stem`` + each of ``loop_formats``."""
        return tuple(self.save(samples, stem.with_name(stem.name + suffix))
                     for suffix in self.loop_formats)

    def write_reconstructions(self, inputs: np.ndarray, outputs: np.ndarray,
                              stem: Path, sources: np.ndarray | None = None) -> Path:
        """Inputs beside their reconstructions (autoencoders); ``stem`` + a suffix. With
        ``sources`` (a translation model's inputs): sources | outputs | inputs (the
        targets)."""
        raise ValueError(f"{self.name} data has no reconstruction view")

    def sample_quality(self, spec: DatasetSpec, samples: SampleChunks,
                       test_batches: Callable[[int], Iterator[dict[str, np.ndarray]]],
                       names: tuple[str, ...], context: EvalContext) -> dict[str, Any]:
        """Sample-quality metrics ``names`` of generated ``samples`` against the test split
        (``test_batches(batch_size)`` iterates it once, transformed)."""
        raise NotImplementedError

    def readings(self) -> Mapping[str, Reading]:
        """``result key -> Reading`` for the numbers ``sample_quality`` returns (shown in
        ``genjax eval``'s table; keys not here get a generic line)."""
        return {}

    def parse_metrics(self, text: str) -> tuple[str, ...]:
        """The metrics asked for: ``"auto"`` (all of ``metrics``), ``""``/``"none"``, or a
        comma list of names from ``metrics``.

        Raises:
          ValueError: a name no modality has, or one this modality does not have (the
            message lists the names allowed).
        """
        text = text.strip().lower()
        if text == "auto":
            return self.metrics
        if text in ("", "none"):
            return ()
        names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        known = tuple(dict.fromkeys(m for modality in modalities().values()
                                    for m in modality.metrics))
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(known)} (or auto / none)")
        wrong = [n for n in names if n not in self.metrics]
        if wrong:
            raise ValueError(f"metric(s) {', '.join(wrong)} do not apply to {self.name} data; "
                             f"it allows {', '.join(self.metrics)} (or auto / none)")
        return names

    def check_output(self, path: Path) -> None:
        """Raises ValueError unless ``path``'s suffix is one of ``sample_formats``."""
        if path.suffix not in self.sample_formats:
            raise ValueError(f"--out must end in {' or '.join(self.sample_formats)} for "
                             f"{self.name} samples, got {path.name}")


def write_npz_rows(path: Path, name: str, chunks: Iterator[np.ndarray], num: int) -> None:
    """An ``.npz`` holding one array ``name`` of ``num`` rows, written chunk by chunk: the
    file ``np.load(path)[name]`` reads (a deflated zip member in the ``.npy`` format, zip64
    for any size), with one chunk in memory at a time.

    Raises:
      ValueError: the chunks change shape or dtype, or do not add up to ``num`` rows.
    """
    chunks = iter(chunks)
    first = np.ascontiguousarray(next(chunks))
    header = {"descr": np.lib.format.dtype_to_descr(first.dtype), "fortran_order": False,
              "shape": (num, *first.shape[1:])}
    rows = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf, \
            zf.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_2_0(member, header)
        for part in itertools.chain([first], chunks):
            part = np.ascontiguousarray(part)
            if part.shape[1:] != first.shape[1:] or part.dtype != first.dtype:
                raise ValueError(f"sample chunks changed from {first.dtype}{first.shape[1:]} "
                                 f"to {part.dtype}{part.shape[1:]}")
            rows += len(part)
            if rows > num:
                break
            member.write(part.tobytes())
    if rows != num:
        raise ValueError(f"expected {num} samples, the sampler gave {rows}")


def sample_chunks(samples: SampleChunks, total: int, batch_size: int) -> Iterator[np.ndarray]:
    """``samples(i, n)`` for consecutive chunks of at most ``batch_size``, ``total`` in all."""
    for i in range(math.ceil(total / batch_size)):
        yield samples(i, min(batch_size, total - i * batch_size))


@functools.cache
def modalities() -> Mapping[str, Modality]:
    """Every modality, by name."""
    return discover("genjax.modalities", "MODALITY", Modality, "genjax.modalities")


def modality_of(spec: DatasetSpec) -> Modality:
    """The modality of a dataset.

    Raises:
      DatasetError: no modality of that name is installed.
    """
    found = modalities()
    if spec.modality not in found:
        raise DatasetError(f"dataset {spec.name!r} holds {spec.modality!r} data, and no "
                           f"modality of that name is installed (known: {', '.join(found)})")
    return found[spec.modality]
