"""The language models through the command line: sample files, eval numbers, bad input."""

import json
import math

import pytest

from genjax.cli import main

TINY = ["--config.train.steps=2", "--config.train.log_every=1",
        "--config.train.checkpoint_every=2", "--config.train.sample_every=1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gpt") / "run"
    assert main(["train", "gpt_tiny", "--workdir", str(workdir), *TINY]) == 0
    return workdir


def error_of(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("genjax: error:") and len(err.splitlines()) == 1, (
        code, err)
    return err


def test_samples_continue_the_prompt_in_txt_and_jsonl(run, capsys):
    assert (run / "samples" / "step_0000001.txt").read_text().startswith("=== sample 0 ===")
    out = run / "s.jsonl"
    assert main(["sample", str(run), "--prompt", "class ", "--num", "3", "--length", "7",
                 "--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "1",
                 "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["sample"] for r in rows] == [0, 1, 2]
    assert all(r["text"].startswith("class ") for r in rows)
    assert all(len(r["text"]) >= len("class ") + 1 for r in rows)


def test_eval_reports_bits_per_byte_and_the_perplexity_of_the_whole_split(run):
    assert main(["eval", str(run), "--num-samples", "4"]) == 0
    results = json.loads((run / "eval.json").read_text())
    assert math.isclose(results["test_perplexity"], math.exp(results["test_nats_per_token"]))
    assert math.isclose(results["test_bits_per_byte"],
                        results["test_nats_per_token"] / math.log(2), rel_tol=1e-6)
    assert 0 <= results["copy_longest_span_mean"] <= results["copy_longest_span_max"]
    assert 0 < results["distinct_4grams"] <= 1


@pytest.mark.parametrize("args,match", [
    (["--prompt", ""], "prompt is empty"),
    (["--temperature", "0"], "temperature must be > 0"),
    (["--temperature", "-1"], "temperature must be > 0"),
    (["--top-p", "0"], "top-p must be in"),
    (["--top-p", "1.01"], "top-p must be in"),
    (["--length", "16"], "no sliding window"),
    (["--label", "3"], "does not take --label"),
    (["--sampler", "ddim"], "does not take --sampler"),
])
def test_bad_sample_input_is_one_line(run, capsys, args, match):
    err = error_of(capsys, ["sample", run, "--num", "2", "--out", run / "x.txt", *args])
    assert match in err, err


def test_bad_output_suffix_is_one_line(run, capsys):
    err = error_of(capsys, ["sample", run, "--num", "2", "--out", run / "x.png"])
    assert ".txt or .jsonl" in err, err


def test_text_config_on_an_image_dataset_is_one_line(tmp_path, capsys):
    err = error_of(capsys, ["train", "gpt_tiny", "--workdir", tmp_path / "r",
                            "--config.data.name=digits"])
    assert "trains on text data" in err and "holds image data" in err, err


def test_image_config_on_a_text_dataset_is_one_line(tmp_path, capsys):
    err = error_of(capsys, ["train", "vae_mnist", "--workdir", tmp_path / "r",
                            "--config.data.name=pydoc_topics"])
    assert "holds text data" in err, err
