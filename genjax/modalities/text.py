"""The text modality: token windows, ``.txt`` / ``.jsonl`` sample files, copy checks.

Examples are windows of ``data.context + 1`` tokens of a split's text (records joined with
``"\\n"``, encoded by the run's tokenizer, :mod:`genjax.data.tokenization`: bytes by default,
``data.tokenizer=bpe`` for a byte-level BPE of ``data.vocab_size`` tokens learned on the
train split; :class:`genjax.data.text.TokenWindows`): every offset of the training text,
consecutive windows over a held-out split. Samples are int BYTE arrays ``(N, L)`` (the
prompt and its continuation; a language model turns its tokens into their bytes, ``-1``
padding where a token has fewer bytes than the longest), decoded as UTF-8 when written.

``genjax eval``'s sample metrics:

* ``copy``: the memorisation check, the longest span of each sample (its first
  ``COPY_SAMPLES``) found verbatim in the train split, in bytes (mean and max): a model that
  copies its training text shows spans far longer than a few words;
* ``distinct``: the share of distinct byte 4-grams among all the samples' 4-grams (1: no
  repetition; a model stuck in a loop scores low).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genjax.data.pipeline import read_records
from genjax.data.text import (
    TEXT_KEY,
    TokenWindows,
    decode_bytes,
    longest_common_span,
    token_stream,
)
from genjax.data.tfds import DatasetError
from genjax.data.tokenization import BYTES, Tokenizer, bpe_from_json, dataset_tokenizer
from genjax.modalities import Modality, Reading, sample_chunks

#: Samples whose longest verbatim span in the train split ``copy`` measures.
COPY_SAMPLES = 16
#: The saved file of a learned tokenizer (``Modality.saved_files``), HF's format.
TOKENIZER_FILE = "tokenizer.json"


def sample_texts(samples: np.ndarray) -> list[str]:
    """Token samples ``(N, T)`` as strings."""
    samples = np.asarray(samples)
    if samples.ndim != 2:
        raise ValueError(f"text samples are (N, T) token arrays, got shape {samples.shape}")
    return [decode_bytes(row) for row in samples]


def save_text(samples: np.ndarray, path: str | Path) -> Path:
    """Writes samples as plain text, each after a ``=== sample i ===`` line."""
    path = Path(path)
    parts = [f"=== sample {i} ===\n{text}\n" for i, text in enumerate(sample_texts(samples))]
    path.write_text("".join(parts), encoding="utf-8")
    return path


def save_one_text(tokens: np.ndarray, path: str | Path) -> Path:
    """Writes one sample ``(T,)`` as its text alone (UTF-8)."""
    path = Path(path)
    (text,) = sample_texts(np.asarray(tokens)[None])
    path.write_text(text, encoding="utf-8")
    return path


def save_jsonl(samples: np.ndarray, path: str | Path) -> Path:
    """Writes samples as JSON lines ``{"sample": i, "text": ...}``."""
    path = Path(path)
    lines = [json.dumps({"sample": i, "text": text}, ensure_ascii=False)
             for i, text in enumerate(sample_texts(samples))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def distinct_ngrams(texts: list[bytes], n: int = 4) -> float:
    """Distinct ``n``-grams over all ``n``-grams of ``texts`` (NaN when there are none)."""
    grams = [t[i:i + n] for t in texts for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def split_text(source) -> bytes:
    """A split's text: its records joined with ``"\\n"``, as UTF-8 bytes."""
    return token_stream(read_records(source, range(len(source)))).tobytes()


class TextModality(Modality):
    """Text as tokens of ``tokenizer``; see the module docstring.

    Attributes:
      tokenizer: the run's tokenizer (:meth:`configure`; the bytes by default).
    """

    name = "text"
    batch_key = TEXT_KEY
    metrics = ("copy", "distinct")

    def __init__(self, tokenizer: Tokenizer = BYTES):
        self.tokenizer = tokenizer

    def configure(self, spec, *, tokenizer="", vocab_size=0, train_source=None, cache=None):
        if not tokenizer and vocab_size:
            raise DatasetError("data.vocab_size sizes a learned tokenizer: add "
                               "--config.data.tokenizer=bpe, or remove it")
        if (tokenizer or "bytes") == "bytes":
            if vocab_size:
                raise DatasetError("data.vocab_size is for data.tokenizer=bpe; the byte "
                                   "tokenizer has 256 symbols: remove it")
            return MODALITY
        if train_source is None or cache is None:
            raise DatasetError("a learned tokenizer needs the dataset's train split")
        return TextModality(dataset_tokenizer(tokenizer, vocab_size, spec.name, cache,
                                              lambda: split_text(train_source())))

    def saved_files(self):
        if self.tokenizer.encoder is None:
            return {}
        return {TOKENIZER_FILE: self.tokenizer.encoder.to_str()}

    def restored(self, spec, files):
        unknown = set(files) - {TOKENIZER_FILE}
        if unknown:
            raise DatasetError(f"the saved modality files {sorted(unknown)} are not text "
                               f"files (dataset {spec.name!r})")
        if TOKENIZER_FILE not in files:
            return self
        return TextModality(bpe_from_json(files[TOKENIZER_FILE], f"the saved {TOKENIZER_FILE}"))

    def examples(self, source, spec, length=0, train=True):
        if length < 1:
            raise DatasetError(f"dataset {spec.name!r} holds text: models take windows of "
                               "data.context tokens; set --config.data.context (e.g. 256)")
        tokens = self.tokenizer.encode(split_text(source))
        return TokenWindows(tokens, length, stride=1 if train else length)

    def transform(self, spec, image_size=None):
        def transform(batch):
            return {**batch, TEXT_KEY: np.asarray(batch[TEXT_KEY], np.int32)}

        return transform

    def formats(self):
        return {".txt": save_text, ".jsonl": save_jsonl}

    def sample_file(self):
        return ".txt", save_one_text

    def sample_quality(self, spec, samples, test_batches, names, context):
        chunks = list(sample_chunks(samples, context.num_samples, context.batch_size))
        texts = [decode_bytes(row).encode("utf-8") for chunk in chunks for row in chunk]
        out: dict[str, float] = {}
        if "distinct" in names:
            out["distinct_4grams"] = distinct_ngrams(texts)
        if "copy" in names and context.train_records is not None:
            records = context.train_records()
            corpus = split_text(records)
            spans = [longest_common_span(t, corpus) for t in texts[:COPY_SAMPLES]]
            out["copy_longest_span_mean"] = float(np.mean(spans))
            out["copy_longest_span_max"] = float(np.max(spans))
            out["copy_samples"] = len(spans)
        return out

    def readings(self):
        return {
            "distinct_4grams": Reading("share of the samples' byte 4-grams that are distinct",
                                       "higher (low: the samples repeat themselves)"),
            "copy_longest_span_mean": Reading("mean longest span copied verbatim from the "
                                              "train text (bytes)", "lower (memorisation)"),
            "copy_longest_span_max": Reading("longest span copied verbatim from the train "
                                             "text (bytes)", "lower (memorisation)"),
            "copy_samples": Reading("samples checked for copies", ""),
        }


MODALITY = TextModality()
