"""Deterministic, resumable batching over random-access sources, and transforms.

A batch is a pure function of ``(seed, index)``:

* ``epoch = index // steps_per_epoch`` and ``k = index % steps_per_epoch``;
* the epoch's order is ``np.random.default_rng([seed, epoch]).permutation(N)``
  (``arange(N)`` without shuffling);
* global batch ``index`` holds rows ``order[k * B:(k + 1) * B]`` (the last
  ``N % B`` rows of each epoch's order are dropped);
* shard ``s`` of ``S`` hosts gets the contiguous block ``[s * B/S, (s+1) * B/S)``
  of that global batch.

Resuming at step ``i`` is ``batches.iterate(start=i)``: there is no iterator
state to save beyond the step number.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from genjax.data.embedded import load_source
from genjax.data.tfds import DatasetError

Batch = dict[str, np.ndarray]
Transform = Callable[[Batch], Batch]


def floor_rows(size: int, count: int) -> np.ndarray:
    """``count`` distinct row indices evenly spaced over ``range(size)``, ascending (all of
    them when ``count >= size``)."""
    if count >= size:
        return np.arange(size)
    return (np.arange(count) * size) // count


def read_records(source: Any, indices: Iterable[int]) -> list[dict[str, Any]]:
    """Reads records from a random-access source.

    Args:
      source: object with ``__getitem__`` and, ideally, ``__getitems__``.
      indices: row indices.

    Returns:
      The records, in the order of ``indices``.
    """
    indices = [int(i) for i in indices]
    getitems = getattr(source, "__getitems__", None)
    if getitems is not None:
        return list(getitems(indices))
    return [source[i] for i in indices]


def stack_records(records: Sequence[dict[str, Any]]) -> Batch:
    """Stacks a list of records into one array per field.

    Args:
      records: non-empty list of dicts with the same keys.

    Returns:
      field -> array with a new leading axis of length ``len(records)``.
    """
    return {key: np.stack([np.asarray(r[key]) for r in records]) for key in records[0]}


class ArraySource:
    """An in-memory random-access source over stacked arrays.

    Reading TFDS records costs ~0.1-0.2 ms each (per-record decoding); for
    small datasets read many times (the 2D mixtures), load the split once with
    ``ArraySource(load_arrays(name, split))`` and batches become array slices.

    Args:
      arrays: field -> array, all with the same leading length.
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) != 1:
            raise DatasetError(f"Fields need one common length, got {sorted(lengths)}.")
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        self._length = lengths.pop()

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {k: v[index] for k, v in self.arrays.items()}

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
        return [self[i] for i in indices]

    def take(self, indices: np.ndarray) -> Batch:
        """Stacked records at ``indices`` (same result as stacking ``__getitems__``).

        Args:
          indices: int array of rows.

        Returns:
          field -> array of ``len(indices)`` rows.
        """
        return {k: v[indices] for k, v in self.arrays.items()}


class Batches:
    """Deterministic batches of a random-access source (see module docstring).

    Args:
      source: object with ``__len__`` and ``__getitem__`` (and ideally
        ``__getitems__``) returning dicts of arrays; a source with a
        ``take(indices) -> dict of arrays`` method (``ArraySource``) is read
        through it instead.
      batch_size: the GLOBAL batch size, over all shards.
      seed: non-negative integer seed of the shuffling.
      shuffle: shuffle each epoch (else the source order every epoch).
      transform: applied to each stacked batch (pure numpy function).
      shard_index: this host's shard, in ``[0, shard_count)``.
      shard_count: number of hosts sharing each global batch.
      pairing: applied after ``transform`` as ``pairing(batch, rows, epoch)`` with the
        batch's source rows and epoch (``genjax.data.pairing.Pairing``: a source image for
        image-to-image translation), so it too is a pure function of ``(seed, index)``.

    Raises:
      DatasetError: invalid sizes, or fewer examples than one batch.
    """

    def __init__(
        self,
        source: Any,
        batch_size: int,
        seed: int,
        *,
        shuffle: bool = True,
        transform: Transform | None = None,
        shard_index: int = 0,
        shard_count: int = 1,
        pairing: Callable[[Batch, np.ndarray, int], Batch] | None = None,
    ):
        if batch_size < 1:
            raise DatasetError(f"batch_size must be at least 1, got {batch_size}.")
        if seed < 0:
            raise DatasetError(f"seed must be a non-negative integer, got {seed}.")
        if shard_count < 1 or not 0 <= shard_index < shard_count:
            raise DatasetError(
                f"shard_index must be in [0, shard_count); got {shard_index} of {shard_count}."
            )
        if batch_size % shard_count:
            raise DatasetError(
                f"The global batch_size {batch_size} is not divisible by shard_count "
                f"{shard_count}; choose a batch size that is a multiple of the host count."
            )
        num_examples = len(source)
        if num_examples < batch_size:
            raise DatasetError(
                f"The dataset has {num_examples} examples, fewer than one batch of "
                f"{batch_size}; use a smaller batch_size or a larger split."
            )
        self.source = source
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.transform = transform
        self.shard_index = shard_index
        self.shard_count = shard_count
        self.pairing = pairing
        self.num_examples = num_examples
        self.local_batch_size = batch_size // shard_count
        self.steps_per_epoch = num_examples // batch_size
        self._order_cache: tuple[int, np.ndarray] | None = None  # a cache, not state

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The order in which an epoch visits the examples.

        Args:
          epoch: epoch number (>= 0).

        Returns:
          int64 permutation of ``range(num_examples)``.
        """
        cached = self._order_cache
        if cached is not None and cached[0] == epoch:
            return cached[1]
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)
        else:
            order = np.arange(self.num_examples)
        self._order_cache = (epoch, order)
        return order

    def indices(self, index: int) -> np.ndarray:
        """The source rows of this shard's part of global batch ``index``.

        Args:
          index: global batch number (>= 0), counted from the first epoch.

        Returns:
          int array of ``local_batch_size`` row indices.
        """
        if index < 0:
            raise DatasetError(f"Batch index must be non-negative, got {index}.")
        epoch, k = divmod(index, self.steps_per_epoch)
        start = k * self.batch_size + self.shard_index * self.local_batch_size
        return self.epoch_order(epoch)[start : start + self.local_batch_size]

    def batch(self, index: int) -> Batch:
        """This shard's part of global batch ``index``, stacked and transformed.

        Args:
          index: global batch number (>= 0).

        Returns:
          field -> array with leading axis ``local_batch_size``.
        """
        rows = self.indices(index)
        take = getattr(self.source, "take", None)
        batch = take(rows) if take is not None else stack_records(read_records(self.source, rows))
        if self.transform is not None:
            batch = self.transform(batch)
        if self.pairing is not None:
            batch = self.pairing(batch, rows, index // self.steps_per_epoch)
        return batch

    def iterate(
        self, start: int = 0, *, stop: int | None = None, prefetch: int = 0
    ) -> Iterator[tuple[int, Batch]]:
        """Yields ``(index, batch(index))`` for ``index = start, start + 1, ...``.

        Args:
          start: first batch index (the step to resume from).
          stop: index to stop before (None: never stop).
          prefetch: if > 0, read up to this many batches ahead in a background
            thread (same batches, same order).

        Returns:
          An iterator of ``(index, batch)``.
        """
        indices = itertools.count(start) if stop is None else range(start, stop)
        if prefetch <= 0:
            return ((i, self.batch(i)) for i in indices)
        return _prefetched(self.batch, indices, prefetch)

    def __iter__(self) -> Iterator[tuple[int, Batch]]:
        return self.iterate(0)


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def _put(q: queue.Queue, item: Any, stopped: threading.Event) -> bool:
    while not stopped.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _prefetched(
    make: Callable[[int], Batch], indices: Iterable[int], prefetch: int
) -> Iterator[tuple[int, Batch]]:
    """Runs ``make`` over ``indices`` in one background thread, in order."""
    q: queue.Queue = queue.Queue(maxsize=prefetch)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for i in indices:
                if not _put(q, (i, make(i)), stopped):
                    return
            _put(q, _END, stopped)
        except BaseException as e:  # handed to the consumer
            _put(q, _Failure(e), stopped)

    thread = threading.Thread(target=produce, name="genjax-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stopped.set()
        thread.join()


def pad_images(images: np.ndarray, size: int, value: float) -> np.ndarray:
    """Pads images symmetrically to ``size x size`` (extra pixel after when odd).

    Args:
      images: array ``(..., H, W, C)``.
      size: target height and width.
      value: fill value.

    Returns:
      Array ``(..., size, size, C)``.

    Raises:
      DatasetError: if ``H`` or ``W`` exceeds ``size``.
    """
    h, w = images.shape[-3], images.shape[-2]
    if h > size or w > size:
        raise DatasetError(
            f"Images are {h}x{w}, larger than the requested size {size}; genjax pads "
            f"images but does not shrink them: use an image size of at least {max(h, w)}."
        )
    lead = [(0, 0)] * (images.ndim - 3)
    widths = [*lead, ((size - h) // 2, (size - h + 1) // 2), ((size - w) // 2, (size - w + 1) // 2)]
    return np.pad(images, [*widths, (0, 0)], constant_values=value)


def _labels_to_int32(batch: Batch) -> Batch:
    if "label" in batch:
        return {**batch, "label": np.asarray(batch["label"], dtype=np.int32)}
    return batch


def images_to_float(pad_to: int | None = None) -> Transform:
    """Transform: ``"image"`` uint8 -> float32 in [-1, 1], ``"label"`` -> int32.

    Args:
      pad_to: if given, pad images spatially to ``pad_to x pad_to`` with the
        background value -1 (MNIST 28 -> 32: 2 pixels on each side).

    Returns:
      A function of a batch (or of one example) dict, returning a new dict.
    """
    if pad_to is not None and pad_to < 1:
        raise DatasetError(f"pad_to must be a positive size, got {pad_to}.")

    def transform(batch: Batch) -> Batch:
        image = np.asarray(batch["image"]).astype(np.float32) / np.float32(127.5) - np.float32(1)
        if pad_to is not None:
            image = pad_images(image, pad_to, value=-1.0)
        return _labels_to_int32({**batch, "image": image})

    return transform


def audio_to_float() -> Transform:
    """Transform: ``"audio"`` integer PCM (int16 values, as TFDS's ``Audio`` stores them) ->
    float32 in [-1, 1) (``x / 32768``); float audio (TFDS's nsynth) is kept, clipped to
    [-1, 1]; ``"label"`` -> int32."""

    def transform(batch: Batch) -> Batch:
        audio = np.asarray(batch["audio"])
        if np.issubdtype(audio.dtype, np.floating):
            audio = np.clip(audio.astype(np.float32), -1.0, 1.0)
        else:
            audio = audio.astype(np.float32) / np.float32(32768.0)
        return _labels_to_int32({**batch, "audio": audio})

    return transform


def points_to_float() -> Transform:
    """Transform: ``"point"`` -> float32, ``"label"`` -> int32.

    Returns:
      A function of a batch dict, returning a new dict.
    """

    def transform(batch: Batch) -> Batch:
        return _labels_to_int32({**batch, "point": np.asarray(batch["point"], dtype=np.float32)})

    return transform


def compose(*transforms: Transform) -> Transform:
    """Chains transforms, applied left to right.

    Args:
      *transforms: functions of a batch dict.

    Returns:
      Their composition.
    """

    def transform(batch: Batch) -> Batch:
        for t in transforms:
            batch = t(batch)
        return batch

    return transform


def load_arrays(
    name: str, split: str, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, np.ndarray]:
    """Reads a whole (small) split into memory.

    Args:
      name: dataset name (embedded or prepared TFDS).
      split: split name.
      data_dir: datasets directory (None: ``default_data_dir()``).

    Returns:
      field -> stacked array over the split, in stored order.
    """
    source = load_source(name, split, data_dir)
    if len(source) == 0:
        raise DatasetError(f"Split {split!r} of dataset {name!r} is empty.")
    return stack_records(read_records(source, range(len(source))))
