"""Tokenizers of the text modality: bytes, or a byte-level BPE learned on the train split.

* ``bytes`` (the default, no dependency): 256 symbols, token ``i`` is the byte ``i``.
* ``bpe``: a byte-level BPE (GPT-2 style: UTF-8 bytes, then merges of frequent pairs within
  the pre-tokens of the GPT-2 split pattern) of ``vocab_size`` tokens (the 256 single bytes and
  the merges), trained by HF ``tokenizers`` (the ``text`` extra) on a dataset's train
  split only, offline. Training is deterministic, so the same train text and vocabulary
  size give the same tokenizer; it is trained once and cached as HF ``tokenizer.json`` in
  the data folder (``tokenizers/<dataset>-bpe<V>-<hash of the train text>.json``), which
  HF ``tokenizers.Tokenizer.from_file`` also reads.

Every token stands for a fixed byte string (:attr:`Tokenizer.pieces`), so any UTF-8 text
encodes (no unknown token) and any token sequence decodes to exact bytes; a model's loss in
nats per token converts to **bits per byte** over the same text by the bytes its target
tokens stand for (:meth:`Tokenizer.token_bytes`), whatever the tokenizer, so runs compare.
"""

# (Not `tokenize.py`: the eSpeak worker runs as a script from this folder, where that name
# would shadow the standard library module.)

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from genjax.data.text import BYTE_VOCAB
from genjax.data.tfds import DatasetError

#: The tokenizers ``data.tokenizer`` names.
TOKENIZERS = ("bytes", "bpe")
#: The largest BPE vocabulary (token ids are int32; embeddings grow with it).
MAX_BPE_VOCAB = 65536


@functools.cache
def byte_level_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character map of byte-level BPE: printable Latin-1 bytes
    map to themselves, the other 68 to the characters from U+0100 on, in byte order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = {b: chr(b) for b in keep}
    extra = 0
    for b in range(BYTE_VOCAB):
        if b not in chars:
            chars[b] = chr(BYTE_VOCAB + extra)
            extra += 1
    return chars


@dataclasses.dataclass(frozen=True, eq=False)
class Tokenizer:
    """Text <-> int tokens, each token a fixed byte string.

    Attributes:
      kind: ``"bytes"`` or ``"bpe"``.
      pieces: the bytes each token id stands for (``pieces[i]`` for token ``i``).
      encoder: the HF ``tokenizers.Tokenizer`` that splits text into tokens (``bpe``), or
        None (``bytes``: token = byte).
    """

    kind: str
    pieces: tuple[bytes, ...]
    encoder: Any = None

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    def encode(self, text: str | bytes) -> np.ndarray:
        """The int32 tokens of ``text`` (bytes must be UTF-8 for ``bpe``).

        Raises:
          DatasetError: bytes that are not UTF-8, under ``bpe``.
        """
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        if self.encoder is None:
            return np.frombuffer(data, dtype=np.uint8).astype(np.int32)
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DatasetError(f"the text is not UTF-8 (byte {err.start}): the bpe tokenizer "
                               "encodes text; use data.tokenizer=bytes for raw bytes") from err
        return np.asarray(self.encoder.encode(decoded).ids, dtype=np.int32)

    def decode(self, tokens: Iterable[int]) -> bytes:
        """The bytes of ``tokens``; negative entries (padding) are skipped.

        Raises:
          ValueError: a token id outside the vocabulary.
        """
        ids = np.asarray(list(tokens) if not isinstance(tokens, np.ndarray) else tokens)
        ids = ids[ids >= 0]
        if ids.size and ids.max() >= self.vocab_size:
            raise ValueError(f"token {int(ids.max())} is outside the {self.kind} vocabulary of "
                             f"{self.vocab_size}")
        return b"".join(self.pieces[i] for i in ids.tolist())

    def token_bytes(self) -> np.ndarray:
        """int32 ``(vocab_size,)``: the number of bytes each token stands for."""
        return np.array([len(p) for p in self.pieces], np.int32)

    def byte_table(self) -> np.ndarray:
        """int32 ``(vocab_size, longest piece)``: each token's bytes, padded with -1 (a
        gather of it turns token arrays into byte arrays inside a compiled function)."""
        width = max(len(p) for p in self.pieces)
        table = np.full((self.vocab_size, width), -1, np.int32)
        for i, piece in enumerate(self.pieces):
            table[i, :len(piece)] = list(piece)
        return table


BYTES = Tokenizer("bytes", tuple(bytes([i]) for i in range(BYTE_VOCAB)))


def _check_vocab(vocab_size: int) -> None:
    if not BYTE_VOCAB < vocab_size <= MAX_BPE_VOCAB:
        raise DatasetError(f"data.vocab_size must be in ({BYTE_VOCAB}, {MAX_BPE_VOCAB}] for "
                           f"data.tokenizer=bpe (the 256 bytes, then merges), got {vocab_size}")


def _tokenizers_module():
    try:
        import tokenizers
    except ImportError as err:
        raise DatasetError("data.tokenizer=bpe trains a BPE with HF tokenizers, which is not "
                           "installed: pip install 'genjax-models[text]' (or "
                           "tokenizers)") from err
    return tokenizers


def _from_encoder(encoder) -> Tokenizer:
    """A :class:`Tokenizer` over a byte-level HF tokenizer's vocabulary."""
    to_byte = {c: b for b, c in byte_level_alphabet().items()}
    pieces = []
    for i in range(encoder.get_vocab_size()):
        token = encoder.id_to_token(i)
        try:
            pieces.append(bytes(to_byte[c] for c in token))
        except KeyError as err:
            raise DatasetError(f"token {i} ({token!r}) of the tokenizer is not byte-level BPE; "
                               "genjax reads the tokenizers it trains") from err
    return Tokenizer("bpe", tuple(pieces), encoder)


def train_bpe(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE of ``vocab_size`` tokens learned on ``texts`` (deterministic).

    Raises:
      DatasetError: a vocabulary size outside (256, 65536], or tokenizers missing.
    """
    _check_vocab(vocab_size)
    tk = _tokenizers_module()
    encoder = tk.Tokenizer(tk.models.BPE())
    encoder.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    encoder.decoder = tk.decoders.ByteLevel()
    alphabet = byte_level_alphabet()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size, show_progress=False, special_tokens=[],
        initial_alphabet=[alphabet[b] for b in range(BYTE_VOCAB)])
    encoder.train_from_iterator(list(texts), trainer)
    return _from_encoder(encoder)


def bpe_from_json(text: str, where: str = "the tokenizer") -> Tokenizer:
    """A byte-level BPE from the text of its ``tokenizer.json``.

    Raises:
      DatasetError: text that is not such a tokenizer (``where`` names its file).
    """
    tk = _tokenizers_module()
    try:
        encoder = tk.Tokenizer.from_str(text)
    except Exception as err:  # noqa: BLE001 -- the Rust side raises plain Exceptions
        raise DatasetError(f"cannot read {where}: {err}") from err
    return _from_encoder(encoder)


def load_bpe(path: str | Path) -> Tokenizer:
    """A byte-level BPE from a cached ``tokenizer.json`` file.

    Raises:
      DatasetError: an unreadable file.
    """
    return bpe_from_json(Path(path).read_text(encoding="utf-8"),
                         f"the tokenizer {path} (delete it to train it again)")


def dataset_tokenizer(kind: str, vocab_size: int, dataset: str, cache: Path,
                      train_text: Callable[[], bytes]) -> Tokenizer:
    """The tokenizer ``data.tokenizer`` names for a dataset.

    Args:
      kind: ``"bytes"`` or ``"bpe"`` (``""``: bytes).
      vocab_size: the BPE's vocabulary size (ignored for bytes).
      dataset: the dataset's name (the cache file's name).
      cache: the folder of cached BPE files.
      train_text: the train split's text (read only when the BPE is not cached yet).

    Raises:
      DatasetError: an unknown kind or a bad vocabulary size, naming the fix.
    """
    kind = kind or "bytes"
    if kind not in TOKENIZERS:
        raise DatasetError(f"data.tokenizer must be one of {', '.join(TOKENIZERS)}, got "
                           f"{kind!r}")
    if kind == "bytes":
        return BYTES
    _check_vocab(vocab_size)
    text = train_text()
    digest = hashlib.sha256(text).hexdigest()[:16]
    path = Path(cache) / f"{dataset}-bpe{vocab_size}-{digest}.json"
    if path.is_file():
        return load_bpe(path)
    tokenizer = train_bpe([text.decode("utf-8")], vocab_size)
    from genjax.core.files import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, tokenizer.encoder.to_str())
    return tokenizer

