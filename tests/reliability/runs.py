"""Tiny ``genjax train gan_toy2d`` runs, in this process or as a child process to kill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from genjax.cli import main

# A run of a few steps: batch 8, a checkpoint every 2 steps, no sample files before the end.
TOY = ["--config.train.batch_size=8", "--config.train.checkpoint_every=2",
       "--config.train.log_every=2", "--config.train.sample_every=1000"]


def train(workdir: Path, steps: int, *extra: str) -> int:
    """``genjax train gan_toy2d`` in this process; returns the exit code."""
    return main(["train", "gan_toy2d", "--workdir", str(workdir),
                 f"--config.train.steps={steps}", *TOY, *extra])


def spawn(workdir: Path, steps: int, *extra: str) -> subprocess.Popen:
    """The same run as a child process (the test environment is inherited); its output goes
    to ``<workdir>.stdout`` / ``<workdir>.stderr`` (a pipe could fill and stall it)."""
    workdir = Path(workdir)
    out = open(f"{workdir}.stdout", "wb")  # noqa: SIM115 - closed with the process
    err = open(f"{workdir}.stderr", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "genjax.cli", "train", "gan_toy2d", "--workdir", str(workdir),
         f"--config.train.steps={steps}", *TOY, *extra],
        stdout=out, stderr=err, env=dict(os.environ))


def stderr_of(workdir: Path) -> str:
    return Path(f"{workdir}.stderr").read_text(errors="replace")


def wait_for_stderr(workdir: Path, proc: subprocess.Popen, text: str,
                    timeout: float = 120.0) -> None:
    """Waits until the child's stderr contains ``text`` (or it has exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in stderr_of(workdir) or proc.poll() is not None:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {text!r} on stderr after {timeout} s")


def wait_for_step(workdir: Path, proc: subprocess.Popen, step: int = 2,
                  timeout: float = 180.0) -> int:
    """Waits until ``metrics.jsonl`` records ``step`` or later; returns the last step."""
    deadline = time.monotonic() + timeout
    path = Path(workdir) / "metrics.jsonl"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early ({proc.returncode}): "
                                 + stderr_of(workdir)[-2000:])
        if path.exists():
            lines = [line for line in path.read_text().splitlines() if line.endswith("}")]
            if lines and json.loads(lines[-1])["step"] >= step:
                return json.loads(lines[-1])["step"]
        time.sleep(0.02)
    raise AssertionError(f"no step {step} in {path} after {timeout} s")


def metric_steps(workdir: Path) -> list[int]:
    return [json.loads(line)["step"]
            for line in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]


def saved_steps(workdir: Path) -> list[int]:
    return sorted(int(p.name) for p in (Path(workdir) / "checkpoints").iterdir()
                  if p.name.isdigit())


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("genjax: error:") and len(err.splitlines()) == 1, err
    return err
