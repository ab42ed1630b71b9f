"""The text tokenizers: GPT-2's byte alphabet, a learned byte-level BPE (exact round trips,
determinism, the cache), bits per byte under BPE against float64 NumPy, and the command line
with ``data.tokenizer=bpe``."""

import json
import math

import jax
import numpy as np
import optax
import pytest

from genjax.app.evaluate import held_out_metrics, ratios
from genjax.cli import main
from genjax.data.text import pydoc_splits
from genjax.data.tfds import DatasetError
from genjax.data.tokenization import BYTES, byte_level_alphabet, dataset_tokenizer, train_bpe
from genjax.families.lm.objective import LanguageModel
from genjax.nn.transformer import Transformer

VOCAB = 320
UNICODE = "naïve café, Ünïcödé – 東京 🙂\n\ttabs  and   spaces\n"


@pytest.fixture(scope="module")
def pydoc():
    splits = pydoc_splits()
    return "\n".join(splits["train"]), "\n".join(splits["test"])


@pytest.fixture(scope="module")
def bpe(pydoc):
    return train_bpe([pydoc[0]], VOCAB)


def test_the_byte_alphabet_is_gpt2s():
    chars = byte_level_alphabet()
    assert sorted(chars) == list(range(256)) and len(set(chars.values())) == 256
    # GPT-2's published map: printable bytes stay, space -> U+0120 'Ġ', newline -> U+010A 'Ċ'
    assert chars[ord("A")] == "A" and chars[ord("~")] == "~" and chars[0xE9] == "é"
    assert chars[ord(" ")] == "\u0120" and chars[ord("\n")] == "\u010a"
    assert chars[0] == "\u0100" and chars[0xAD] == "\u0143"


def test_bytes_tokenizer_is_the_identity():
    data = UNICODE.encode("utf-8")
    tokens = BYTES.encode(UNICODE)
    assert tokens.dtype == np.int32 and tokens.tolist() == list(data)
    assert BYTES.decode(tokens) == data and BYTES.vocab_size == 256
    assert BYTES.token_bytes().tolist() == [1] * 256


def test_bpe_round_trips_any_text_exactly_and_compresses(bpe, pydoc):
    assert bpe.vocab_size == VOCAB and bpe.kind == "bpe"
    assert {p for p in bpe.pieces if len(p) == 1} == {bytes([b]) for b in range(256)}
    for text in (pydoc[1], UNICODE, "x", " leading space", "trailing\n\n"):
        tokens = bpe.encode(text)
        assert bpe.decode(tokens) == text.encode("utf-8"), text[:40]
    test = pydoc[1].encode("utf-8")
    tokens = bpe.encode(test)
    assert len(test) / len(tokens) > 1.3  # unseen text: 64 merges already pay
    assert bpe.token_bytes()[tokens].sum() == len(test)
    # the HF decoder agrees with the pieces
    assert bpe.encoder.decode(bpe.encode(UNICODE).tolist()) == UNICODE
    table = bpe.byte_table()
    for i in (0, 255, 300, VOCAB - 1):
        row = table[i]
        assert bytes(row[row >= 0].tolist()) == bpe.pieces[i]
    with pytest.raises(DatasetError, match="not UTF-8"):
        bpe.encode(b"\xff\xfe")
    with pytest.raises(ValueError, match="outside the bpe vocabulary"):
        bpe.decode([VOCAB])


def test_bpe_training_is_deterministic_and_cached(tmp_path, pydoc):
    reads = []

    def train_text():
        reads.append(1)
        return pydoc[0].encode("utf-8")

    first = dataset_tokenizer("bpe", VOCAB, "pydoc_topics", tmp_path, train_text)
    (cached,) = tmp_path.glob("pydoc_topics-bpe320-*.json")
    again = dataset_tokenizer("bpe", VOCAB, "pydoc_topics", tmp_path, train_text)
    assert again.pieces == first.pieces and len(reads) == 2  # read (hashed), trained once
    assert train_bpe([pydoc[0]], VOCAB).encoder.to_str() == cached.read_text()
    # a different train text is a different file, never the stale one
    dataset_tokenizer("bpe", VOCAB, "pydoc_topics", tmp_path, lambda: b"other text " * 50)
    assert len(list(tmp_path.glob("pydoc_topics-bpe320-*.json"))) == 2
    cached.write_text("{broken")
    with pytest.raises(DatasetError, match="cannot read the tokenizer.*delete it"):
        dataset_tokenizer("bpe", VOCAB, "pydoc_topics", tmp_path, train_text)


@pytest.mark.parametrize("kind, vocab, match", [
    ("wordpiece", 512, "must be one of bytes, bpe"),
    ("bpe", 256, r"must be in \(256, 65536\]"),
    ("bpe", 0, r"must be in \(256, 65536\]"),
])
def test_bad_tokenizer_options(tmp_path, kind, vocab, match):
    with pytest.raises(DatasetError, match=match):
        dataset_tokenizer(kind, vocab, "pydoc_topics", tmp_path, lambda: b"never read")


def test_bits_per_byte_under_bpe_against_a_float64_reference(bpe, pydoc):
    """Whole-split bits per byte = the nats of every predicted token / ln 2 / the bytes
    they stand for, from ``test_metrics`` batch means through ``genjax eval``'s ratio."""
    context = 12
    obj = LanguageModel(model=Transformer(vocab_size=VOCAB, max_len=context, features=16,
                                          num_layers=1, num_heads=2, mlp_ratio=2),
                        optimizer=optax.adam(1e-3), context=context, tokenizer=bpe,
                        sample_length=4)
    stream = bpe.encode(pydoc[1][:3000])
    windows = np.stack([stream[i:i + context + 1]
                        for i in range(0, len(stream) - context, context)][:10])
    state = obj.init(jax.random.PRNGKey(0), {"text": windows[:2]})
    batches = [{"text": windows[:4]}, {"text": windows[4:7]}, {"text": windows[7:]}]
    results = held_out_metrics(obj, state, iter(batches), jax.random.PRNGKey(1))
    results.update(ratios(results, obj.capabilities.ratio_metrics))

    logits = np.asarray(obj.model.apply({"params": state.params}, windows[:, :-1]), np.float64)
    top = logits.max(-1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    nats = -np.take_along_axis(log_probs, windows[:, 1:, None], -1).sum()
    size = sum(len(bpe.pieces[t]) for t in windows[:, 1:].ravel())
    np.testing.assert_allclose(results["test_bits_per_byte"], nats / math.log(2) / size,
                               rtol=1e-5)
    assert results["test_bytes_per_token"] > 1.3
    # the loop's per-batch number is the same ratio over its batch
    m = obj.eval_metrics(state, batches[0], jax.random.PRNGKey(0))
    lp = log_probs[:4]
    nats0 = -np.take_along_axis(lp, windows[:4, 1:, None], -1).sum()
    size0 = sum(len(bpe.pieces[t]) for t in windows[:4, 1:].ravel())
    np.testing.assert_allclose(float(m["bits_per_byte"]), nats0 / math.log(2) / size0,
                               rtol=1e-5)


def test_bpe_samples_are_the_bytes_of_their_tokens(bpe):
    context = 16
    obj = LanguageModel(model=Transformer(vocab_size=VOCAB, max_len=context, features=16,
                                          num_layers=1, num_heads=2, mlp_ratio=2),
                        optimizer=optax.adam(1e-3), context=context, tokenizer=bpe,
                        sample_length=4)
    state = obj.init(jax.random.PRNGKey(0), {"text": np.zeros((2, context + 1), np.int32)})
    prompt = "def __init__"
    out = np.asarray(obj.sample(state, jax.random.PRNGKey(3), 3, prompt=prompt, length=5))
    width = bpe.byte_table().shape[1]
    assert out.shape == (3, (len(bpe.encode(prompt)) + 5) * width)
    for row in out:
        data = bytes(row[row >= 0].tolist())
        assert data.startswith(prompt.encode()) and len(data) >= len(prompt) + 5
    with pytest.raises(ValueError, match=r"the prompt \(\d+ bpe tokens\) \+ --length 16"):
        obj.check_options(prompt, 16, 1.0, 0, 1.0)


def test_bpe_through_the_command_line(tmp_path, capsys):
    """Train, sample and evaluate a tiny GPT over a learned BPE, export it and resume it
    from the tokenizer its run folder saved; a BPE on image data and a vocabulary without a
    BPE are each refused in one line."""
    from genjax.data import default_data_dir

    data_dir = default_data_dir()
    run = tmp_path / "run"
    bpe = ["--config.data.tokenizer=bpe", f"--config.data.vocab_size={VOCAB}"]
    args = ["--config.train.steps=2", "--config.train.checkpoint_every=2",
            "--config.train.sample_every=2", *bpe]
    assert main(["train", "gpt_tiny", "--workdir", str(run), *args]) == 0
    assert (run / "samples" / "step_0000002.txt").read_text().startswith("=== sample 0 ===")
    out = tmp_path / "s.jsonl"
    assert main(["sample", str(run), "--prompt", "class ", "--num", "2", "--length", "4",
                 "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and all(r["text"].startswith("class ") for r in rows)
    assert main(["eval", str(run), "--num-samples", "2"]) == 0
    results = json.loads((run / "eval.json").read_text())
    assert results["test_bytes_per_token"] > 1.3
    assert math.isclose(results["test_bits_per_byte"], results["test_nats_per_token"]
                        / math.log(2) / results["test_bytes_per_token"], rel_tol=1e-9)
    assert math.isclose(results["test_perplexity"], math.exp(results["test_nats_per_token"]))
    capsys.readouterr()

    def error(argv):
        assert main([str(a) for a in argv]) != 0
        err = capsys.readouterr().err.strip()
        assert err.startswith("genjax: error:") and len(err.splitlines()) == 1, err
        return err

    # the run keeps its tokenizer: exported with it, it samples without the data folder's
    saved = (run / "modality" / "tokenizer.json").read_text()
    (cached,) = (data_dir / "tokenizers").glob(f"pydoc_topics-bpe{VOCAB}-*.json")
    assert cached.read_text() == saved
    try:  # a cache that changed since (another library version, say) is never read
        cached.write_text("{not the tokenizer the run was trained with")
        model = tmp_path / "m.genjax"
        assert main(["export", str(run), "--out", str(model)]) == 0
        assert main(["sample", str(model), "--prompt", "class ", "--num", "2", "--length",
                     "4", "--out", str(tmp_path / "e.jsonl")]) == 0
        assert all(json.loads(line)["text"].startswith("class ")
                   for line in (tmp_path / "e.jsonl").read_text().splitlines())
        assert main(["train", "gpt_tiny", "--workdir", str(run), *args[1:],
                     "--config.train.steps=3"]) == 0  # resumes with its own tokenizer
        assert main(["sample", str(run), "--num", "1", "--out", str(tmp_path / "r.txt")]) == 0
    finally:
        cached.write_text(saved)
    assert (run / "modality" / "tokenizer.json").read_text() == saved
    assert "holds image data" in error(["train", "gpt_tiny", "--workdir", tmp_path / "x",
                                        "--config.data.name=digits", *bpe])
    assert "add --config.data.tokenizer=bpe" in error(
        ["train", "gpt_tiny", "--workdir", tmp_path / "y", "--config.data.tokenizer=",
         f"--config.data.vocab_size={VOCAB}"])
