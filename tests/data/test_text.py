"""The text corpora, the byte tokenizer and token windows."""

import json

import numpy as np
import pytest

from genjax.data import Batches, dataset_spec, load_source
from genjax.data.pipeline import read_records
from genjax.data.text import (
    BYTE_VOCAB,
    KJV_TEST_SHARE,
    TokenWindows,
    decode_bytes,
    encode_bytes,
    kjv_path,
    kjv_records,
    longest_common_span,
    pydoc_splits,
    split_by_share,
    token_stream,
)
from genjax.modalities.text import TextModality


@pytest.mark.parametrize("text", ["", "In the beginning", "naïve café — 日本語 🙂\n\ttab"])
def test_byte_tokenizer_round_trip(text):
    tokens = encode_bytes(text)
    assert tokens.dtype == np.uint8 and len(tokens) == len(text.encode("utf-8"))
    assert tokens.max(initial=0) < BYTE_VOCAB
    assert decode_bytes(tokens) == text
    assert decode_bytes(tokens.astype(np.int32).tolist()) == text


def test_decode_refuses_tokens_outside_the_vocabulary():
    with pytest.raises(ValueError, match="byte tokens"):
        decode_bytes(np.array([65, 256]))


def test_split_by_share_takes_the_shortest_run_of_last_groups():
    assert split_by_share([50, 30, 10, 10], 0.15) == 2  # 10 + 10 = 20% >= 15%
    assert split_by_share([50, 30, 10, 10], 0.10) == 3
    assert split_by_share([50, 30, 10, 10], 0.25) == 1


def test_kjv_is_split_by_book_and_the_test_books_are_unseen():
    with open(kjv_path(), encoding="utf-8") as f:
        verses = [json.loads(line) for line in f if line.strip()]
    with open(kjv_path(), encoding="utf-8") as f:
        splits = kjv_records(f)
    books = {s: {line.split(" ", 1)[0] if not line[0].isdigit() else " ".join(
        line.split(" ", 2)[:2]) for chapter in texts for line in chapter.splitlines()}
        for s, texts in splits.items()}
    assert not books["train"] & books["test"]
    assert "Romans" in books["test"] and "Revelation" in books["test"]
    assert "Acts" in books["train"] and "Genesis" in books["train"]
    n_verses = sum(len(c.splitlines()) for texts in splits.values() for c in texts)
    assert n_verses == len(verses)
    test_chars = sum(len(v["text"]) for v in verses if v["book"] in books["test"])
    share = test_chars / sum(len(v["text"]) for v in verses)
    assert KJV_TEST_SHARE <= share < 0.12, share
    first = splits["train"][0].splitlines()[0]
    assert first == "Genesis 1:1 In the beginning God created the heaven and the earth."


def test_pydoc_topics_built_into_tfds_and_read_back():
    spec = dataset_spec("pydoc_topics")
    assert spec.modality == "text" and spec.num_classes is None
    expected = pydoc_splits()
    for split in ("train", "test"):
        source = load_source("pydoc_topics", split)
        assert len(source) == spec.splits[split] == len(expected[split])
        stream = token_stream(read_records(source, range(len(source))))
        assert stream.tobytes() == "\n".join(expected[split]).encode("utf-8")
    assert not set(expected["train"]) & set(expected["test"])


def test_token_windows_train_every_offset_test_tiled():
    tokens = np.arange(23, dtype=np.uint8)
    train = TokenWindows(tokens, length=4)
    assert len(train) == 19
    np.testing.assert_array_equal(train.take(np.array([0, 18]))["text"],
                                  [[0, 1, 2, 3, 4], [18, 19, 20, 21, 22]])
    test = TokenWindows(tokens, length=4, stride=4)
    windows = test.take(np.arange(len(test)))["text"]
    assert windows.shape == (5, 5) and windows.dtype == np.int32
    targets = windows[:, 1:].ravel()
    np.testing.assert_array_equal(targets, np.arange(1, 21))  # every target exactly once
    with pytest.raises(IndexError):
        test.take(np.array([5]))


def test_text_batches_are_a_pure_function_of_seed_and_step():
    spec = dataset_spec("pydoc_topics")
    modality = TextModality()
    windows = modality.examples(load_source("pydoc_topics", "train"), spec, 32, train=True)
    a = Batches(windows, 8, seed=3, transform=modality.transform(spec))
    b = Batches(windows, 8, seed=3, transform=modality.transform(spec))
    np.testing.assert_array_equal(a.batch(41)["text"], b.batch(41)["text"])
    resumed = [batch["text"] for _, batch in b.iterate(start=5, stop=7)]
    np.testing.assert_array_equal(resumed[0], a.batch(5)["text"])
    np.testing.assert_array_equal(resumed[1], a.batch(6)["text"])
    assert a.batch(5)["text"].shape == (8, 33)
    assert not np.array_equal(a.batch(5)["text"], Batches(windows, 8, seed=4).batch(5)["text"])


def test_text_needs_a_context():
    spec = dataset_spec("pydoc_topics")
    with pytest.raises(ValueError, match="data.context"):
        TextModality().examples(load_source("pydoc_topics", "train"), spec, 0)


def brute_force_span(sample: bytes, corpus: bytes) -> int:
    best = 0
    for i in range(len(sample)):
        for j in range(i + 1, len(sample) + 1):
            if sample[i:j] in corpus:
                best = max(best, j - i)
    return best


def test_longest_common_span_matches_brute_force():
    rng = np.random.default_rng(0)
    corpus = bytes(rng.integers(97, 101, 300, dtype=np.uint8))
    for _ in range(20):
        sample = bytes(rng.integers(97, 102, 25, dtype=np.uint8))
        assert longest_common_span(sample, corpus) == brute_force_span(sample, corpus)
    assert longest_common_span(b"", corpus) == 0
    assert longest_common_span(b"zzz", b"abc") == 0
    assert longest_common_span(b"xxthe cat sat", b"on the cat sat mat") == 11
