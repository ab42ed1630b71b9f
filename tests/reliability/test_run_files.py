"""Run files survive kills (issue 18, items 2 and 3): metrics.jsonl truncation, config.json
and eval.json are replaced atomically; a torn last metrics line is dropped, not fatal."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from genjax.cli import main
from genjax.core.files import remove_stale_temps, write_atomic
from genjax.core.reporting import read_metrics, truncate_metrics
from tests.reliability import runs

# A child that rewrites a file as fast as it can, to be SIGKILLed at random instants.
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from genjax.core.files import remove_stale_temps, write_atomic
    from genjax.core.reporting import truncate_metrics
    mode, path, full, half = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    full, half = Path(full).read_text(), Path(half).read_text()
    print("ready", flush=True)
    while True:
        if mode == "metrics":  # a resume: the records past the checkpoint are dropped
            write_atomic(path, full)
            truncate_metrics(path, 50_000)
        else:                  # config.json: one version, then another
            write_atomic(path, full)
            write_atomic(path, half)
""")


def kill_repeatedly(tmp_path, mode, full, half, check, kills=6):
    (tmp_path / "full").write_text(full)
    (tmp_path / "half").write_text(half)
    target = tmp_path / ("metrics.jsonl" if mode == "metrics" else "config.json")
    rng = random.Random(0)
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(target), str(tmp_path / "full"),
             str(tmp_path / "half")], stdout=subprocess.PIPE, env=dict(os.environ))
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.02, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if target.exists():
            check(target.read_text())


def test_kill_during_metrics_truncation_leaves_a_valid_file(tmp_path, caplog):
    lines = [json.dumps({"step": s, "d_loss": 0.5, "g_loss": 1.25}) + "\n"
             for s in range(1, 100_001)]
    full, half = "".join(lines), "".join(lines[:50_000])

    def check(text):
        assert text in (full, half), f"a torn metrics.jsonl of {len(text)} characters"

    kill_repeatedly(tmp_path, "metrics", full, half, check)
    truncate_metrics(tmp_path / "metrics.jsonl", 50_000)  # the next resume
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == list(
        range(1, 50_001))
    assert not list(tmp_path.glob(".metrics.jsonl.tmp-*")), "killed rewrites are cleaned up"
    assert "not a complete record" not in caplog.text


def test_kill_during_config_writes_leaves_a_valid_file(tmp_path):
    a = json.dumps({"family": "gan", "pad": "a" * 2_000_000}) + "\n"
    b = json.dumps({"family": "gan", "pad": "b" * 1_000_000}) + "\n"

    def check(text):
        assert text in (a, b), f"a torn config.json of {len(text)} characters"
        json.loads(text)

    kill_repeatedly(tmp_path, "config", a, b, check)
    remove_stale_temps(tmp_path / "config.json")  # what genjax train does, holding the lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "full", "half"]


def test_write_atomic_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = write_atomic(tmp_path / "config.json", "old\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp left


def test_a_torn_last_metrics_line_is_dropped_and_the_run_resumes(toy_run, caplog):
    work = toy_run
    with open(work / "metrics.jsonl", "a") as f:
        f.write('{"step": 5, "d_loss": 0.7')  # killed mid-append
    assert [r["step"] for r in read_metrics(work / "metrics.jsonl")] == [2, 4]
    assert runs.train(work, 6) == 0
    assert runs.metric_steps(work) == [2, 4, 6]
    assert "not a complete record" in caplog.text


def test_resume_appends_after_the_resumed_step_only(toy_run):
    """Records a killed run wrote past its last checkpoint are replaced, not duplicated."""
    work = toy_run
    with open(work / "metrics.jsonl", "a") as f:  # logged after the last checkpoint (4)
        f.write(json.dumps({"step": 6, "d_loss": 9.0}) + "\n")
    assert runs.train(work, 6) == 0
    records = read_metrics(work / "metrics.jsonl")
    assert [r["step"] for r in records] == [2, 4, 6] and records[-1]["d_loss"] != 9.0


def test_run_files_are_replaced_not_written_through_symlinks(toy_run, tmp_path):
    """config.json and eval.json go through write_atomic: a symlink planted at either is
    replaced by the new file; the file it pointed at is left alone."""
    work = toy_run
    outside = tmp_path / "outside.json"
    outside.write_text((work / "config.json").read_text())
    (work / "config.json").unlink()
    (work / "config.json").symlink_to(outside)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (work / "eval.json").symlink_to(precious)

    assert runs.train(work, 6) == 0
    assert not (work / "config.json").is_symlink()
    assert json.loads((work / "config.json").read_text())["train"]["steps"] == 6
    assert json.loads(outside.read_text())["train"]["steps"] == 4
    assert main(["eval", str(work), "--metrics", "none"]) == 0
    assert not (work / "eval.json").is_symlink() and precious.read_text() == "keep me"
    assert json.loads((work / "eval.json").read_text())["step"] == 6
