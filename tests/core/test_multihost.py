"""Two processes on one machine train one model through jax.distributed (loopback, gloo).

Each process has 2 fake CPU devices (4 in all), reads its own half of every global batch and
runs the sharded step; process 0 alone writes logs and samples; both take part in the orbax
checkpoint. Both must end with identical parameters, equal to a one-process run on the same
global batches to float32 reduction order (tolerance as in test_parallel.py).
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genjax.cli import load_run, main

TINY = ["--config.data.name=digits", "--config.data.image_size=0",
        "--config.model.g_features=(8,)", "--config.model.d_features=(8,)",
        "--config.model.latent_dim=8", "--config.train.batch_size=8",
        "--config.train.steps=3", "--config.train.log_every=1",
        "--config.train.checkpoint_every=2", "--config.train.sample_every=0",
        "--config.train.num_samples=0"]
TOL = dict(rtol=2e-5, atol=2e-5)
ROOT = Path(__file__).resolve().parents[2]  # the worker runs as tests.core.multihost_worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_like_one(tmp_path):
    from genjax.data import dataset_spec, default_data_dir

    dataset_spec("digits", default_data_dir())  # built once here, not raced by the workers
    port = free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    workdir = tmp_path / "two_hosts"
    procs = []
    for pid in range(2):
        argv = ["train", "dcgan_mnist", "--workdir", str(workdir), *TINY,
                "--config.parallel=sharded",
                f"--config.distributed.coordinator=127.0.0.1:{port}",
                "--config.distributed.num_processes=2", f"--config.distributed.process_id={pid}"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.core.multihost_worker", str(tmp_path), *argv],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=240)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
    assert "2 hosts" in outputs[0] and "genjax: training" not in outputs[1]  # only process 0 logs

    hosts = [np.load(tmp_path / f"params_{i}.npz") for i in range(2)]
    assert sorted(hosts[0].files) == sorted(hosts[1].files)
    for name in hosts[0].files:
        np.testing.assert_array_equal(hosts[0][name], hosts[1][name])

    # the same global batches in one process (8 devices, single mode)
    assert main(["train", "dcgan_mnist", "--workdir", str(tmp_path / "one"), *TINY]) == 0
    _, _, one = load_run(tmp_path / "one")
    _, _, two = load_run(workdir)  # the two-host checkpoint, read back by one process
    assert int(two.step) == 3
    import jax

    flat_one = dict((jax.tree_util.keystr(p), x) for p, x in
                    jax.tree_util.tree_flatten_with_path(one.params)[0])
    for name in hosts[0].files:
        np.testing.assert_allclose(hosts[0][name], np.asarray(flat_one[name]), **TOL)
    for a, b in zip(jax.tree.leaves(two.params), jax.tree.leaves(one.params), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)
    assert (workdir / "metrics.jsonl").read_text().count("\n") == 3


if __name__ == "__main__":
    pytest.main([__file__, "-q"])
